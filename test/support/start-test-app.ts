import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig, type Config } from "../../src/config.js";
import { createApp, type App, type AppOptions } from "../../src/server.js";

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  /** http://127.0.0.1:PORT of the Connect / gRPC / gRPC-Web listener. */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT of the native grpc-js listener. */
  readonly grpcUrl: string;
  /** http://127.0.0.1:PORT of the Prometheus listener (GET /metrics). */
  readonly metricsUrl: string;
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Stops the app and deletes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * Starts the whole service on ephemeral ports with its own SQLite directory. `options` go to createApp
 * (a logger writing to a test stream, a span exporter); the default logger is silent.
 */
export async function startTestApp(env: Record<string, string> = {}, dataDir?: string, options: AppOptions = {}): Promise<TestApp> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "residency-test-")));
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    GRPC_PORT: "0",
    METRICS_PORT: "0",
    DATA_DIR: dir,
    SHUTDOWN_GRACE_MS: "2000",
    ...env,
  });
  const app = await createApp(config, { logger: pino({ level: "silent" }), ...options });
  const { port, grpcPort, metricsPort } = await app.start();
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
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    dataDir: dir,
    stop,
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
