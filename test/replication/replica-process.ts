import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { TEST_SECRET_KEY } from "../support/auth.js";

/** One replica of the service in a process of its own (`npm start`'s command). */
export interface ReplicaProcess {
  readonly name: string;
  /** http://127.0.0.1:PORT of the Connect / gRPC / gRPC-Web listener. */
  readonly baseUrl: string;
  /** JSON log lines so far. */
  readonly logs: readonly Record<string, unknown>[];
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/**
 * Starts `node --import tsx src/main.ts` on ephemeral ports with the test SECRET_KEY and resolves once it logs
 * "residency is serving". `env` adds to (and overrides) the test process's environment.
 */
export async function startReplica(name: string, env: Record<string, string>): Promise<ReplicaProcess> {
  const dir = await mkdtemp(join(tmpdir(), "residency-replica-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      GRPC_PORT: "0",
      METRICS_PORT: "0",
      DATA_DIR: dir,
      SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: "1000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit");
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => void stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const serving = new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.message === "residency is serving") resolve(entry.port as number);
    });
    void exited.then(() => reject(new Error(`replica ${name} exited before serving: ${stderr.join("").slice(-2000)}`)));
  });
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup();
  };
  let port: number;
  try {
    port = await serving;
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    stop: () => stop("SIGTERM"),
    kill: () => stop("SIGKILL"),
  };
}
