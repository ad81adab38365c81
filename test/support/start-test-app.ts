import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig, type Config } from "../../src/config.js";
import { createApp, type App } from "../../src/server.js";

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  /** http://127.0.0.1:PORT of the Connect / gRPC / gRPC-Web listener. */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT of the native grpc-js listener. */
  readonly grpcUrl: string;
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Stops the app and deletes its data directory. */
  cleanup(): Promise<void>;
}

/** Starts the whole service on ephemeral ports with its own SQLite directory. */
export async function startTestApp(env: Record<string, string> = {}, dataDir?: string): Promise<TestApp> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "residency-test-")));
  const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", DATA_DIR: dir, SHUTDOWN_GRACE_MS: "2000", ...env });
  const app = await createApp(config, { logger: pino({ level: "silent" }) });
  const { port, grpcPort } = await app.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    dataDir: dir,
    stop,
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
