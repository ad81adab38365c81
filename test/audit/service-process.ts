import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly grpcPort: number;
  /** Every JSON log line so far. */
  readonly lines: Record<string, unknown>[];
  /** The first log line whose message matches, logged already or once it is. */
  logged(message: RegExp): Promise<Record<string, unknown>>;
  readonly exit: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  terminate(): Promise<number | null>;
}

/**
 * Starts `npm start`'s command (`node --import tsx src/main.ts`), behind `wrapper` (a command and its arguments
 * that runs it, e.g. setpriv), and resolves once it serves.
 */
export async function startServiceProcess(env: Record<string, string>, wrapper: readonly string[] = []): Promise<ServiceProcess> {
  const command = [...wrapper, process.execPath, "--import", "tsx", "src/main.ts"];
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  const awaited: { readonly message: RegExp; readonly found: (line: Record<string, unknown>) => void }[] = [];
  const serving = new Promise<{ port: number; grpcPort: number }>((resolve, reject) => {
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      for (const [i, waiter] of [...awaited.entries()].reverse()) {
        if (waiter.message.test(String(entry.message))) {
          awaited.splice(i, 1);
          waiter.found(entry);
        }
      }
      if (entry.message === "residency is serving") resolve({ port: entry.port as number, grpcPort: entry.grpc_port as number });
    });
    void exit.then((code) => reject(new Error(`service exited before serving (code ${code}): ${stderr.slice(-2000)}`)));
  });
  const { port, grpcPort } = await serving;
  return {
    child,
    port,
    grpcPort,
    lines,
    logged(message) {
      const line = lines.find((entry) => message.test(String(entry.message)));
      return line ? Promise.resolve(line) : new Promise((found) => awaited.push({ message, found }));
    },
    exit,
    async terminate() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exit;
    },
  };
}
