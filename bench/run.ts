// `npm run bench`: the figures of issue #2. Part 1 measures the decision engine and the API edge in
// process; part 2 drives both listeners with h2load. Results are printed and written to
// bench/results/latest.json. Environment knobs (all optional):
//   BENCH_ONLY=decide|grpc       run one part
//   BENCH_TENANTS=10000          population size of part 1
//   BENCH_H2LOAD_SECONDS=3       -D of each measured h2load run (after a BENCH_WARMUP_SECONDS=1 warm-up run)
//   BENCH_ROUNDS=5               measured runs of each RPC per level; the table gives the medians
//   AUDIT_WRITER_SCHED, AUDIT_WRITER_NICE   passed on to the app (the service's own settings)
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { useNodeTextEncoding } from "../src/api/node-text-encoding.js";
import { HOT_SET, runDecideBench, type DecideBenchResult } from "./decide-bench.js";
import { envInt } from "./env-int.js";
import { abortGrpcBench, BENCH_LEVELS, runGrpcBench, type GrpcBenchResult, type ListenerResult } from "./grpc-bench.js";
import { h2loadVersion, killH2load } from "./h2load.js";
import { describeMachine, loadAverageNow, machineInfo } from "./machine.js";
import { formatInt, formatNs, formatPercent, textTable, type LatencySummary } from "./stats.js";

const DECIDE_P99_TARGET_NS = 2_000;
const RATIO_TARGET = 0.85;

const here = dirname(fileURLToPath(import.meta.url));
const log = (line = ""): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  // The server's UTF-8 codec for protobuf-es (createApp does the same), so part 1b measures what it runs.
  useNodeTextEncoding();
  const only = process.env.BENCH_ONLY;
  if (only !== undefined && only !== "" && only !== "decide" && only !== "grpc") throw new Error(`BENCH_ONLY="${only}": use decide or grpc`);
  const started = performance.now();
  const machine = machineInfo();
  log("residency bench (issue #2)");
  log(describeMachine(machine));

  let decideResult: DecideBenchResult | undefined;
  if (only !== "grpc") {
    log();
    log("== 1. In-process decisions: decide() over a snapshot, no serialization ==");
    decideResult = await runDecideBench({
      tenants: envInt("BENCH_TENANTS", 10_000),
      learnersPerTenant: 3,
      requestPool: 65_536,
      warmUpMs: 1_500,
      rounds: 5,
      roundMs: 1_000,
      latencySamples: 500_000,
      edgeSamples: 50_000,
      seed: 20_261_127,
      log,
    });
    printDecide(decideResult);
  }

  let grpcResult: GrpcBenchResult | undefined;
  let grpcSkipped: string | undefined;
  if (only !== "decide") {
    log();
    log("== 2. Over the network: h2load against both listeners ==");
    const version = await h2loadVersion();
    if (version === undefined) {
      grpcSkipped = "h2load not found on PATH (Debian/Ubuntu: apt-get install nghttp2-client)";
      log(`SKIPPED: ${grpcSkipped}`);
    } else {
      const durationS = envInt("BENCH_H2LOAD_SECONDS", 3);
      const warmUpS = envInt("BENCH_WARMUP_SECONDS", 1);
      const rounds = envInt("BENCH_ROUNDS", 5);
      log(
        `${version}; each run: an unmeasured h2load -D ${warmUpS} warm-up, then -t 1 -D ${durationS} on new connections; ` +
          `${rounds} rounds of ResolveAccess and Check alternating (ABBA); figures are the medians`,
      );
      grpcResult = await runGrpcBench({ levels: BENCH_LEVELS, rounds, durationS, warmUpS, log: (line) => log(`  ${line}`) });
      printGrpc(grpcResult);
    }
  }

  const totalS = (performance.now() - started) / 1000;
  const loadAtEnd = loadAverageNow();
  const results = {
    machine,
    loadAverageAtEnd: loadAtEnd,
    totalSeconds: totalS,
    targets: { decideP99Ns: DECIDE_P99_TARGET_NS, resolveToCheckRatio: RATIO_TARGET },
    decide: decideResult,
    grpc: grpcResult ?? (grpcSkipped ? { skipped: grpcSkipped } : undefined),
  };
  const file = join(here, "results", "latest.json");
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
  log();
  log(`load average at the end: ${loadAtEnd.join(" / ")}`);
  log(`results written to ${file}; bench took ${totalS.toFixed(0)} s`);
}

function latencyRow(name: string, l: LatencySummary): string[] {
  return [name, formatInt(l.count), formatNs(l.p50), formatNs(l.p90), formatNs(l.p99), formatNs(l.p999), formatNs(l.max)];
}

function printDecide(r: DecideBenchResult): void {
  const mix = Object.entries(r.population.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${formatPercent(n / r.population.requestPool)}`)
    .join(", ");
  log(`  outcomes (by deny reason, else first reason): ${mix}`);
  log();
  log(
    `  throughput (tight loop, ${r.throughput.roundsPerSec.length} rounds): median ${formatInt(r.throughput.medianPerSec)} decisions/s, ` +
      `best ${formatInt(r.throughput.bestPerSec)} (rounds: ${r.throughput.roundsPerSec.map(formatInt).join(", ")}); ` +
      `this process got ${formatPercent(r.throughput.cpuShare)} of a core meanwhile`,
  );
  log();
  log(
    `  latency per call: process.hrtime.bigint() around each decide(); a bare hrtime pair costs ` +
      `p50 ${formatNs(r.timerOverhead.p50)} / p99 ${formatNs(r.timerOverhead.p99)}, included in every figure below`,
  );
  log(
    indent(
      textTable(
        ["requests", "calls", "p50", "p90", "p99", "p999", "max"],
        [
          latencyRow("all (mix)", r.latency.all),
          latencyRow("allowed", r.latency.allowed),
          latencyRow("denied", r.latency.denied),
          latencyRow(`hot set (${HOT_SET} requests)`, r.latency.hotSet),
          latencyRow("(timer pair)", r.timerOverhead),
        ],
      ),
    ),
  );
  const p99 = r.latency.all.p99;
  log(
    `  target p99 < ${formatNs(DECIDE_P99_TARGET_NS)}: mix p99 ${formatNs(p99)} → ${p99 < DECIDE_P99_TARGET_NS ? "MET" : "MISSED"}; ` +
      `hot set p99 ${formatNs(r.latency.hotSet.p99)} → ${r.latency.hotSet.p99 < DECIDE_P99_TARGET_NS ? "met" : "missed"}`,
  );
  const load = r.memoryLatency.nsPerLoad;
  log(
    `  this machine's memory: one dependent load from a random place in ${r.memoryLatency.spanBytes / 2 ** 20} MB takes ` +
      `${formatNs(load)} (pointer chase, bench/memory-latency.ts); the mix's p50 is the time of ${(r.latency.all.p50 / load).toFixed(1)} such loads, ` +
      `its p99 of ${(p99 / load).toFixed(1)}: over ${formatInt(r.population.policies)} policies a decision is a chain of cache misses, so its p99 follows this figure`,
  );
  log();
  log("== 1b. The API edge without the network: where a ResolveAccess spends its time ==");
  log("  one pass, one hrtime read per stage boundary (each figure includes about one timer read)");
  const serverP50Sum = r.edge.stages.filter((s) => s.side === "server").reduce((sum, s) => sum + s.latency.p50, 0);
  log(
    indent(
      textTable(
        ["stage", "side", "p50", "p99", "p999", "share of server p50"],
        r.edge.stages.map((s) => [
          s.stage,
          s.side,
          formatNs(s.latency.p50),
          formatNs(s.latency.p99),
          formatNs(s.latency.p999),
          s.side === "server" ? formatPercent(s.latency.p50 / serverP50Sum) : "",
        ]),
      ),
    ),
  );
  log(
    `  server stages timed as one (decode → map → decide → uuid → map → create → encode): p50 ${formatNs(r.edge.serverPath.p50)}, ` +
      `p99 ${formatNs(r.edge.serverPath.p99)}, p999 ${formatNs(r.edge.serverPath.p999)}; ${formatInt(r.edge.serverPathPerSec)}/s on one core`,
  );
}

function printGrpc(r: GrpcBenchResult): void {
  for (const listener of r.listeners) {
    log();
    log(`  ${listener.listener} listener (${listener.url}); target ResolveAccess/Check ≥ ${RATIO_TARGET}`);
    log(indent(listenerTable(listener)));
    log(
      "  (req/s: the median of the rounds; ratio: median ÷ median; rounds' ratios: the lowest and highest of one round's pair;\n" +
        "   cpu/req: CPU time of the app's process during the median run ÷ requests done, steadier than req/s on a busy machine;\n" +
        "   server cpu: that time ÷ wall time, 100% = one core, more when V8's GC and compiler threads run alongside)",
    );
    for (const level of listener.levels) {
      for (const problem of level.problems) log(`  PROBLEM at -c ${level.clients} -m ${level.streams}: ${problem}`);
    }
  }
  const native = r.listeners.find((l) => l.listener === "native grpc-js");
  const connect = r.listeners.find((l) => l.listener === "connect");
  if (native && connect) {
    log();
    log("  native grpc-js listener vs the Connect listener's gRPC (same requests, same levels; req/s and server CPU per request)");
    const cpu = (v: number | undefined) => (v === undefined ? "n/a" : formatNs(v * 1000));
    const times = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? "n/a" : `${(a / b).toFixed(2)}×`);
    log(
      indent(
        textTable(
          [
            "in flight",
            "h2load",
            "RA req/s native",
            "RA req/s connect",
            "native/connect",
            "Check req/s native",
            "Check req/s connect",
            "native/connect",
            "RA cpu/req native",
            "RA cpu/req connect",
            "connect/native",
          ],
          native.levels.map((n, i) => {
            const c = connect.levels[i]!;
            return [
              String(n.concurrency),
              `-c ${n.clients} -m ${n.streams}`,
              formatInt(n.resolve.reqPerSec),
              formatInt(c.resolve.reqPerSec),
              times(n.resolve.reqPerSec, c.resolve.reqPerSec),
              formatInt(n.check.reqPerSec),
              formatInt(c.check.reqPerSec),
              times(n.check.reqPerSec, c.check.reqPerSec),
              cpu(n.resolve.serverCpuUsPerRequest),
              cpu(c.resolve.serverCpuUsPerRequest),
              times(c.resolve.serverCpuUsPerRequest, n.resolve.serverCpuUsPerRequest),
            ];
          }),
        ),
      ),
    );
  }
}

function listenerTable(listener: ListenerResult): string {
  const cpu = (v: number | undefined) => (v === undefined ? "n/a" : formatNs(v * 1000));
  const share = (v: number | undefined) => (v === undefined ? "n/a" : formatPercent(v));
  return textTable(
    [
      "in flight",
      "h2load",
      "ResolveAccess req/s",
      "Check req/s",
      "ratio",
      "rounds' ratios",
      "≥ 0.85",
      "RA mean",
      "RA max",
      "Check mean",
      "Check max",
      "RA cpu/req",
      "Check cpu/req",
      "server cpu RA/Check",
      "problems",
      "first",
    ],
    listener.levels.map((l) => [
      String(l.concurrency),
      `-c ${l.clients} -m ${l.streams}`,
      formatInt(l.resolve.reqPerSec),
      formatInt(l.check.reqPerSec),
      l.ratio.toFixed(2),
      `${Math.min(...l.rounds.ratios).toFixed(2)}–${Math.max(...l.rounds.ratios).toFixed(2)}`,
      l.ratio >= RATIO_TARGET ? "met" : "MISSED",
      formatNs(l.resolve.latencyMeanNs ?? Number.NaN),
      formatNs(l.resolve.latencyMaxNs ?? Number.NaN),
      formatNs(l.check.latencyMeanNs ?? Number.NaN),
      formatNs(l.check.latencyMaxNs ?? Number.NaN),
      cpu(l.resolve.serverCpuUsPerRequest),
      cpu(l.check.serverCpuUsPerRequest),
      `${share(l.resolve.serverCpuShare)} / ${share(l.check.serverCpuShare)}`,
      String(l.problems.length),
      l.order === "ResolveAccess first" ? "RA" : "Check",
    ]),
  );
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
  log("\ninterrupted: stopping h2load and the app, deleting the temp dir");
  killH2load();
  void abortGrpcBench().finally(() => process.exit(130));
});

try {
  await main();
} catch (error) {
  if (!interrupted) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
// Nothing should keep the process alive now; if a client session lingers, do not hang the terminal.
setTimeout(() => {
  process.stderr.write("bench: something kept the event loop alive after cleanup; exiting\n");
  process.exit(process.exitCode ?? 0);
}, 3_000).unref();
