import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** Bench → app process (app-process.ts). */
export type ToAppProcess = { type: "cpu"; id: number } | { type: "stop" };
/** App process → bench. */
export type FromAppProcess = { type: "started"; port: number; grpcPort: number } | { type: "cpu"; id: number; micros: number };

export interface AppProcess {
  readonly port: number;
  readonly grpcPort: number;
  /** CPU time (user + system, µs) the app process has used so far, all its threads. */
  cpuMicros(): Promise<number>;
  /** SIGTERM's path: stops the app (flushing its audit) and waits for the process to exit. */
  stop(): Promise<void>;
}

/**
 * BENCH_APP_NODE_ARGS: Node options for the app process only, space-separated, e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof" (each app writes a profile of its main thread when it stops). Node refuses those in
 * NODE_OPTIONS, and there they would profile h2load's driver too.
 */
function appNodeArgs(): string[] {
  return (process.env.BENCH_APP_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
}

/** Starts the service in a child process (app-process.ts) with `env` as its environment variables. */
export async function startAppProcess(env: Record<string, string>, options: { decisionAudit?: boolean } = {}): Promise<AppProcess> {
  const child = fork(fileURLToPath(new URL("./app-process.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx", ...appNodeArgs()],
    env: { ...process.env, BENCH_APP_ENV: JSON.stringify(env), BENCH_APP_DECISION_AUDIT: options.decisionAudit === false ? "off" : "on" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = once(child, "exit");
  const started = await new Promise<{ port: number; grpcPort: number }>((resolve, reject) => {
    child.once("message", (message: FromAppProcess) => (message.type === "started" ? resolve(message) : reject(new Error(`app process: ${message.type} before started`))));
    void exited.then(([code]) => reject(new Error(`app process exited (code ${String(code)}) before it listened`)));
  });
  let nextId = 0;
  return {
    ...started,
    cpuMicros() {
      const id = nextId++;
      return new Promise((resolve) => {
        const onMessage = (message: FromAppProcess) => {
          if (message.type !== "cpu" || message.id !== id) return;
          child.off("message", onMessage);
          resolve(message.micros);
        };
        child.on("message", onMessage);
        child.send({ type: "cpu", id } satisfies ToAppProcess);
      });
    },
    async stop() {
      if (child.exitCode !== null || !child.connected) return; // gone already (a terminal's Ctrl-C reaches it too)
      child.send({ type: "stop" } satisfies ToAppProcess);
      await exited;
    },
  };
}
