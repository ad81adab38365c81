// The service in a process of its own for the benchmarks, started the way `npm start` runs it (node --import
// tsx): a benchmark's own data (part 1's 40,000 policies and half a million latency samples) is not in its heap,
// so its garbage collector works the way a deployed replica's does. Started by startAppProcess (app-process-
// client.ts) with an IPC channel: it reports its ports once listening, its CPU time when asked, and stops on
// request. BENCH_APP_ENV is the service's configuration (a JSON object of environment variables);
// BENCH_APP_DECISION_AUDIT=off gives decisions a no-op audit sink (AppOptions.decisionAuditSink), which no
// configuration of the service offers: the audit-off side of `npm run bench:audit`.
import { pino } from "pino";
import { noopAuditSink } from "../src/audit/audit-sink.js";
import { loadConfig } from "../src/config.js";
import { createApp } from "../src/server.js";
import type { FromAppProcess, ToAppProcess } from "./app-process-client.js";

const send = (message: FromAppProcess) => process.send!(message);
const config = loadConfig(JSON.parse(process.env.BENCH_APP_ENV ?? "{}") as Record<string, string>);
const app = await createApp(config, {
  logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? "silent" }),
  ...(process.env.BENCH_APP_DECISION_AUDIT === "off" ? { decisionAuditSink: noopAuditSink } : {}),
});
process.on("message", (message: ToAppProcess) => {
  if (message.type === "cpu") send({ type: "cpu", id: message.id, micros: cpuMicros() });
  if (message.type === "stop") void app.stop().then(() => process.exit(0));
});
const { port, grpcPort } = await app.start();
send({ type: "started", port, grpcPort });

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
