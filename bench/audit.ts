// `npm run bench:audit`: what the tamper-evident audit (issue #6) costs. Part 1 drives decisions through the
// decision responder in process, with audit off (no-op sink) and on (queue + batch writer into Postgres), in
// alternating rounds of the same run. Part 2 measures how fast the writer appends entries to the hash chain.
// Environment knobs (all optional):
//   BENCH_AUDIT_POSTGRES_URL   a server where a scratch database may be created (default: the tests' server)
//   BENCH_AUDIT_ROUNDS=6       rounds per mode in part 1 (each BENCH_AUDIT_ROUND_MS=500 long)
//   BENCH_AUDIT_ENTRIES=40000  entries per writer run in part 2
//   BENCH_AUDIT_SERVICE_ROUNDS=10, BENCH_AUDIT_SERVICE_SECONDS=3   part 3: h2load runs per app and level, and their length
//   AUDIT_WRITER_SCHED, AUDIT_WRITER_NICE   part 3: passed on to both apps (the service's own settings)
//   BENCH_AUDIT_PARTS=1,2,3    which parts to run
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { pino } from "pino";
import { ResolveAccessRequestSchema, type ResolveAccessRequest } from "../gen/residency/v1/residency_service_pb.js";
import { bindPrincipal } from "../src/api/call-principal.js";
import type { CallContext } from "../src/api/call-context.js";
import { createDecisionResponder, type DecisionResponder } from "../src/api/decision-responder.js";
import { classificationMapping, operationMapping } from "../src/api/enum-mapping.js";
import { requestIdMiddleware } from "../src/api/request-id.js";
import { createAuditLog, type AuditLog, type AuditSettings } from "../src/audit/audit-log.js";
import { createAuditQueue } from "../src/audit/audit-queue.js";
import { createThreadedAuditLog } from "../src/audit/threaded-audit-log.js";
import { encodeAuditRecord } from "../src/audit/audit-record-codec.js";
import { auditRingReader, auditRingWriter, createAuditRingBuffer, ringBytesFor } from "../src/audit/audit-ring.js";
import { ALL_TENANTS } from "../src/auth/principal.js";
import type { DecisionRequest } from "../src/domain/decision.js";
import { DEFAULT_REGIONS } from "../src/domain/default-region-catalog.js";
import { buildSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import type { AuditStore } from "../src/store/audit-store.js";
import { createPostgresPolicyStore } from "../src/store/postgres/postgres-policy-store.js";
import { openSqliteAuditAppender } from "../src/store/sqlite/sqlite-audit-appender.js";
import { createSqlitePolicyStore, sqliteFilePath } from "../src/store/sqlite/sqlite-policy-store.js";
import { envInt } from "./env-int.js";
import { describeMachine, loadAverageNow, machineInfo } from "./machine.js";
import { buildPopulation } from "./population.js";
import { benchAppSettings } from "./grpc-bench.js";
import { measureServiceAudit, roundAuditRatios, serviceAuditRatio } from "./service-audit.js";
import { formatInt, formatPercent, median, textTable } from "./stats.js";

const log = (line = ""): void => void process.stdout.write(`${line}\n`);
const silent = pino({ level: "silent" });
const noMetrics = {
  setAuditQueueDepth: () => {},
  countAuditWriteFailures: () => {},
  countAuditEntriesWritten: () => {},
  countAuditShed: () => {},
};

/** What one decision call needs: the engine's request, the proto request and a call context (request id, principal). */
interface Call {
  readonly request: DecisionRequest;
  readonly original: ResolveAccessRequest;
  readonly context: CallContext;
}

function buildCalls(requests: readonly DecisionRequest[]): Call[] {
  // 256 contexts, each with a request id and a principal, as the middleware leaves them.
  const contexts = Array.from({ length: 256 }, (_, i) => {
    const context: CallContext = {
      requestHeader: { get: (name) => (name === "x-request-id" ? `bench-${i}` : null) },
      responseHeader: { set: () => {} },
      signal: new AbortController().signal,
      protocolName: "grpc-native",
    };
    void requestIdMiddleware(() => undefined, undefined as never)(undefined as never, context);
    bindPrincipal(context, { subject: `svc-${i % 8}`, roles: new Set(["service"]), tenants: ALL_TENANTS, via: "jwt" });
    return context;
  });
  return requests.map((request, i) => ({
    request,
    original: create(ResolveAccessRequestSchema, {
      tenantId: request.tenantId,
      learnerId: request.learnerId,
      operation: operationMapping.toProto(request.operation),
      requestedRegion: request.requestedRegion,
      dataClassification: request.dataClassification ? classificationMapping.toProto(request.dataClassification) : 0,
      resourceType: "document",
      resourceId: `doc-${i}`,
      callerRegion: "us-east",
    }),
    context: contexts[i % contexts.length]!,
  }));
}

let sink = 0;

/**
 * Decisions answered per second over `ms`, the clock read every `chunk` decisions; with `yieldEvery`, a turn of the
 * event loop after each chunk (so the audit writer runs meanwhile), else a tight loop.
 */
async function round(respond: DecisionResponder, snapshot: Snapshot, calls: readonly Call[], ms: number, yieldEvery?: number) {
  const chunk = yieldEvery ?? 10_000;
  const mask = calls.length - 1;
  let i = 0;
  let answered = 0;
  let shed = 0;
  const started = performance.now();
  const until = started + ms;
  let now = started;
  while (now < until) {
    for (let k = 0; k < chunk; k++) {
      const call = calls[i++ & mask]!;
      try {
        sink ^= respond(snapshot, call.request, call.original, call.context).decision.allowed ? 1 : 0;
        answered++;
      } catch {
        shed++;
      }
    }
    if (yieldEvery !== undefined) await yieldToLoop();
    now = performance.now();
  }
  return { perSec: (answered / (now - started)) * 1000, shed };
}

async function scratchPostgres(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = process.env.BENCH_AUDIT_POSTGRES_URL ?? process.env.RESIDENCY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `residency_bench_${randomBytes(4).toString("hex")}`;
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await query(`create database "${name}"`);
  } catch (err) {
    log(`  (no Postgres at ${new URL(admin).host}: ${(err as Error).message}; part 2 uses SQLite only)`);
    return undefined;
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`drop database if exists "${name}" with (force)`) };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  log("residency audit bench (issue #6)");
  log(describeMachine(machine));
  const rounds = envInt("BENCH_AUDIT_ROUNDS", 6);
  const roundMs = envInt("BENCH_AUDIT_ROUND_MS", 500);
  const entries = envInt("BENCH_AUDIT_ENTRIES", 40_000);
  const parts = new Set((process.env.BENCH_AUDIT_PARTS ?? "1,2,3").split(",").map(Number));

  const population = buildPopulation({ tenants: 2_000, learnersPerTenant: 3, requests: 16_384, seed: 20_261_127 });
  const snapshot = buildSnapshot({ version: 1, regions: DEFAULT_REGIONS, policies: population.policies, defaultRegion: undefined, builtAt: Date.now() });
  const calls = buildCalls(population.requests);
  const spoolDir = await mkdtemp(join(tmpdir(), "residency-bench-spool-"));
  const postgres = await scratchPostgres();
  const sqliteDir = await mkdtemp(join(tmpdir(), "residency-bench-sqlite-"));
  const opened: (AuditStore & { close(): Promise<void> })[] = [];
  const openStore = async (kind: "postgres" | "sqlite", dataDir = sqliteDir) => {
    const store = kind === "postgres" ? createPostgresPolicyStore({ url: postgres!.url, runMigrations: true }) : createSqlitePolicyStore({ dataDir });
    await store.open();
    opened.push(store);
    return store;
  };
  const auditLog = (store: AuditStore, settings: Partial<AuditSettings> = {}): AuditLog =>
    createAuditLog({
      store,
      settings: { spoolDir, queueMax: 100_000, batchSize: 500, flushIntervalMs: 100, ...settings },
      metrics: noMetrics,
      logger: silent,
    });

  try {
    const store = await openStore(postgres ? "postgres" : "sqlite");
    const storeName = postgres ? "Postgres" : "SQLite";
    const off = createDecisionResponder(Date.now);

    if (parts.has(1)) {
      log();
      log("== 1. Decisions through the decision responder, in process: audit off vs on (alternating rounds) ==");
      // a) The decision path alone: the real queue, taken a batch at a time as soon as one is ready, as a writer that
      //    keeps up would take it; what the writer then does with it is part 2's business, not the decision path's.
      let drain = () => {};
      const queue = createAuditQueue(100_000, 500, () => drain());
      drain = () => void queue.take(500);
      const on = createDecisionResponder(Date.now, { record: (record) => queue.offer(record) });
      for (let w = 0; w < 2; w++) {
        await round(off, snapshot, calls, 300);
        await round(on, snapshot, calls, 300);
      }
      // The same with the writer thread's hand-off (the default): encode the line and copy it into the shared ring.
      // The ring is read back on this thread whenever it is full, as a writer thread that keeps up would read it, so
      // that reading is charged to the decision path too (an upper bound).
      const shared = createAuditRingBuffer(ringBytesFor(100_000));
      const ringWriter = auditRingWriter(shared);
      const ringReader = auditRingReader(shared);
      const handOff = (line: string) => {
        if (ringWriter.write(line)) return true;
        ringReader.durable(ringReader.read().length);
        return ringWriter.write(line);
      };
      const onRing = createDecisionResponder(Date.now, { record: (record) => handOff(encodeAuditRecord(record)) });
      await round(onRing, snapshot, calls, 300);
      const pathOff: number[] = [];
      const pathOn: number[] = [];
      const pathRing: number[] = [];
      for (let r = 0; r < rounds; r++) {
        pathOff.push((await round(off, snapshot, calls, roundMs)).perSec);
        pathOn.push((await round(on, snapshot, calls, roundMs)).perSec);
        pathRing.push((await round(onRing, snapshot, calls, roundMs)).perSec);
      }

      // b) Sustained, with the writer appending to the chain meanwhile: the loop yields every 256 decisions. Once with
      //    the writer on this thread (AUDIT_WRITER_THREAD=false), once with the writer thread (the default).
      const sustained = async (liveLog: AuditLog) => {
        await liveLog.start();
        const live = createDecisionResponder(Date.now, liveLog);
        const liveOff: number[] = [];
        const liveOn: number[] = [];
        let liveShed = 0;
        for (let r = 0; r < rounds; r++) {
          liveOff.push((await round(off, snapshot, calls, roundMs, 256)).perSec);
          const result = await round(live, snapshot, calls, roundMs, 256);
          liveOn.push(result.perSec);
          liveShed += result.shed;
          await liveLog.flush(); // untimed: each round starts with an empty queue
        }
        await liveLog.close();
        return { liveOff, liveOn, liveShed };
      };
      const sameThread = await sustained(auditLog(store));
      const threaded = await sustained(
        createThreadedAuditLog({
          target: { databaseUrl: postgres?.url, dataDir: sqliteDir },
          store,
          settings: { spoolDir, queueMax: 100_000, batchSize: 500, flushIntervalMs: 100 },
          metrics: noMetrics,
          logger: silent,
        }),
      );

      const ratio = (a: readonly number[], b: readonly number[]) => median(b) / median(a);
      log(
        textTable(
          ["mode", "audit off (decisions/s)", "audit on (decisions/s)", "on / off", "cost"],
          [
            ["decision path, writer thread (encode + ring)", formatInt(median(pathOff)), formatInt(median(pathRing)), formatPercent(ratio(pathOff, pathRing)), formatPercent(1 - ratio(pathOff, pathRing))],
            ["decision path, same-thread writer (enqueue)", formatInt(median(pathOff)), formatInt(median(pathOn)), formatPercent(ratio(pathOff, pathOn)), formatPercent(1 - ratio(pathOff, pathOn))],
            ...([
              [`whole process, writer thread into ${storeName} (default)`, threaded],
              [`whole process, writer on this thread into ${storeName}`, sameThread],
            ] as const).map(([name, { liveOff, liveOn }]) => [
              name,
              formatInt(median(liveOff)),
              formatInt(median(liveOn)),
              formatPercent(ratio(liveOff, liveOn)),
              formatPercent(1 - ratio(liveOff, liveOn)),
            ]),
          ],
        ),
      );
      log(`  rounds (decisions/s): path off ${pathOff.map(formatInt).join(" ")} | ring ${pathRing.map(formatInt).join(" ")} | enqueue ${pathOn.map(formatInt).join(" ")}`);
      for (const [name, run] of [["writer thread", threaded], ["same thread", sameThread]] as const) {
        log(`  ${name}: off ${run.liveOff.map(formatInt).join(" ")} | on ${run.liveOn.map(formatInt).join(" ")}; ${formatInt(run.liveShed)} decisions shed (queue full)`);
      }
      log(`  whole process: every decision's entry must also be hashed and written, by a writer that appends 10–25k entries/s`);
      log(`  here; on 2 cores the writer thread (and Postgres) compete with the decisions for CPU, so these rows show the`);
      log(`  machine's limit, not the decision path's cost (the rows above).`);
    }

    if (parts.has(2)) {
      log();
      log("== 2. Audit write throughput: entries appended to the hash chain (queue → batch writer → database) ==");
      const rows: string[][] = [];
      const kinds: ("postgres" | "sqlite" | "sqlite-appender")[] = postgres ? ["postgres", "sqlite", "sqlite-appender"] : ["sqlite", "sqlite-appender"];
      for (const kind of kinds) {
        // Each SQLite kind on a file of its own, starting empty (a fuller chain has larger indexes to insert into).
        const dataDir = join(sqliteDir, kind);
        let target: AuditStore = kind === "postgres" ? store : await openStore("sqlite", dataDir);
        if (kind === "sqlite-appender") {
          // What the writer thread uses on SQLite: better-sqlite3 directly, on a connection of its own.
          const appender = openSqliteAuditAppender(sqliteFilePath({ dataDir }));
          opened.push({ ...target, close: async () => appender.close() } as AuditStore & { close(): Promise<void> });
          target = { ...target, appendAudit: appender.appendAudit };
        }
        for (const batchSize of [100, 500, 1000]) {
          const writer = auditLog(target, { queueMax: entries, batchSize, flushIntervalMs: 60_000 });
          const recorder = createDecisionResponder(Date.now, writer);
          for (let i = 0; i < entries; i++) {
            const call = calls[i % calls.length]!;
            recorder(snapshot, call.request, call.original, call.context);
          }
          const cpu = process.cpuUsage();
          const started = performance.now();
          await writer.start();
          while (writer.depth > 0) await writer.flush();
          const ms = performance.now() - started;
          const used = process.cpuUsage(cpu);
          await writer.close();
          rows.push([
            { postgres: "Postgres", sqlite: "SQLite (ORM, same-thread writer)", "sqlite-appender": "SQLite (writer thread's appender)" }[kind],
            String(batchSize),
            formatInt((entries / ms) * 1000),
            `${((used.user + used.system) / entries).toFixed(1)} µs`,
          ]);
        }
      }
      log(textTable(["database", "batch", "entries/s", "CPU of this process per entry"], rows));
      log(`  ${formatInt(entries)} decision entries per run (about 20% denied, with violation rows)`);
    }

    if (parts.has(3)) {
      log();
      log("== 3. The service: ResolveAccess req/s on the native gRPC listener (h2load), decisions' audit on vs off ==");
      const serviceRounds = envInt("BENCH_AUDIT_SERVICE_ROUNDS", 10);
      const service = await measureServiceAudit({ durationS: envInt("BENCH_AUDIT_SERVICE_SECONDS", 3), rounds: serviceRounds });
      if (service === undefined) {
        log("  skipped: h2load not found (apt-get install nghttp2-client)");
      } else {
        log(
          textTable(
            ["h2load", "audit off (req/s)", "audit on (req/s)", "on / off", "rounds' on / off", "cost", "target cost ≤ 10 %"],
            service.map((row) => [
              row.level,
              formatInt(median(row.off)),
              formatInt(median(row.on)),
              formatPercent(serviceAuditRatio(row)),
              `${formatPercent(Math.min(...roundAuditRatios(row)))}–${formatPercent(Math.max(...roundAuditRatios(row)))}`,
              formatPercent(1 - serviceAuditRatio(row)),
              1 - serviceAuditRatio(row) <= 0.1 ? "met" : "MISSED",
            ]),
          ),
        );
        log(`  medians of ${serviceRounds} alternating rounds (ABBA) per app; rounds' on / off: the lowest and highest of one round's pair`);
        log(`  two apps, each in a process of its own, on SQLite (DATA_DIR), settings ${JSON.stringify(benchAppSettings())}, bearer JWT on every call;`);
        log("  off = a no-op sink for decisions");
        log("  (AppOptions.decisionAuditSink, which no configuration offers); on = the default writer thread.");
      }
      log(`  load average at end ${loadAverageNow().join(" / ")}`);
    }
  } finally {
    for (const store of opened) await store.close();
    await postgres?.drop();
    await rm(spoolDir, { recursive: true, force: true });
    await rm(sqliteDir, { recursive: true, force: true });
  }
  if (sink === 42) log(""); // keeps the decisions observable
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
