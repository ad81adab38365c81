// `npm run bench:tracing` (issue #7): decision throughput with tracing on (the real OTLP/HTTP exporter and
// batch processor, exporting to a local no-op collector) against tracing off, in one run.
//
// A tiny HTTP server on 127.0.0.1 plays the collector: it answers every POST /v1/traces with 200 and an
// empty body, and counts the spans in each ExportTraceServiceRequest. Each round starts a fresh app
// (createApp, ephemeral ports, its own temp DATA_DIR, a silent logger, a SECRET_KEY), creates one tenant
// policy with an admin token, warms up, then drives ResolveAccess through the native gRPC listener with a
// connect-node gRPC client: 16 concurrent call loops for a fixed time. Rounds alternate off / on so drift
// on the machine hits both; the app is stopped after each round (which flushes the batch processor), so
// an ON round's export never spills into the next OFF round.
//
// Knobs: BENCH_TRACING_ROUNDS (3 per mode), BENCH_TRACING_SECONDS (3), BENCH_TRACING_WARMUP_SECONDS (1),
// BENCH_TRACING_CONCURRENCY (16).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, inflateSync } from "node:zlib";
import { create } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { AdminService } from "../gen/residency/v1/admin_service_pb.js";
import { ResidencyService, ResolveAccessRequestSchema } from "../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, DataClassification, Operation } from "../gen/residency/v1/types_pb.js";
import { loadConfig } from "../src/config.js";
import { createApp, type App } from "../src/server.js";
import { BENCH_SECRET_KEY, benchTokens } from "./auth.js";
import { envInt } from "./env-int.js";
import { describeMachine, loadAverageNow, machineInfo } from "./machine.js";
import { formatInt, formatNs, median, textTable } from "./stats.js";

const TENANT_ID = "bench-edu";
const log = (line = ""): void => void process.stdout.write(`${line}\n`);

function bearer(token: string | undefined): Interceptor[] {
  if (token === undefined) return [];
  return [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    },
  ];
}

// --- the no-op collector -----------------------------------------------------------------------------

interface Collector {
  readonly url: string;
  /** Spans counted so far (decoded from every ExportTraceServiceRequest). */
  spans(): number;
  requests(): number;
  /** Requests to anything but POST /v1/traces, and bodies that did not decode. */
  problems(): readonly string[];
  close(): Promise<void>;
}

/** Reads a protobuf varint at `pos`; returns [value, next position]. */
function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
    if (shift > 63) throw new Error("varint too long");
  }
}

/** The length-delimited fields numbered `field` of a message, as subarrays; other fields skipped. */
function subMessages(buf: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = varint(buf, pos);
    const wire = key & 7;
    const num = Math.floor(key / 8);
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len: number;
      [len, pos] = varint(buf, pos);
      if (num === field) out.push(buf.subarray(pos, pos + len));
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (pos > buf.length) throw new Error("truncated message");
  }
  return out;
}

/** ExportTraceServiceRequest.resource_spans(1) → ResourceSpans.scope_spans(2) → ScopeSpans.spans(2). */
function countSpans(body: Buffer): number {
  let n = 0;
  for (const rs of subMessages(body, 1)) for (const ss of subMessages(rs, 2)) n += subMessages(ss, 2).length;
  return n;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = req.headers["content-encoding"];
  if (encoding === "gzip") return gunzipSync(raw);
  if (encoding === "deflate") return inflateSync(raw);
  return raw;
}

async function startCollector(): Promise<Collector> {
  let spans = 0;
  let requests = 0;
  const problems: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        problems.push(`${req.method} ${req.url}`);
        req.resume();
        res.writeHead(404).end();
        return;
      }
      try {
        const body = await readBody(req);
        requests++;
        if ((req.headers["content-type"] ?? "").includes("json")) problems.push("JSON body (expected protobuf)");
        else spans += countSpans(body);
      } catch (error) {
        problems.push(`undecodable body: ${error instanceof Error ? error.message : String(error)}`);
      }
      // An empty ExportTraceServiceResponse: 200 with no body.
      res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "0" }).end();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    requests: () => requests,
    problems: () => problems,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- one round ---------------------------------------------------------------------------------------

type Mode = "off" | "on";

interface RoundResult {
  readonly mode: Mode;
  readonly round: number;
  readonly decisions: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSec: number;
  /** CPU time of this process (app + client) per decision, ns. */
  readonly cpuNsPerDecision: number;
  readonly meanLatencyNs: number;
  /** Spans the collector received during the round and the app's stop (the batch processor's flush). */
  readonly spans: number;
  readonly exportRequests: number;
  readonly tracingConfigured: boolean;
}

interface RoundOptions {
  readonly collector: Collector;
  readonly concurrency: number;
  readonly warmUpMs: number;
  readonly measureMs: number;
}

const cleanups = new Set<() => Promise<void>>();

async function runRound(mode: Mode, round: number, options: RoundOptions): Promise<RoundResult> {
  const { collector } = options;
  const dir = await mkdtemp(join(tmpdir(), `residency-bench-tracing-${mode}-`));
  let app: App | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      try {
        await app?.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })());
  cleanups.add(cleanup);
  try {
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      GRPC_PORT: "0",
      METRICS_PORT: "0",
      DATA_DIR: join(dir, "data"),
      SHUTDOWN_GRACE_MS: "2000",
      SECRET_KEY: BENCH_SECRET_KEY,
      ...(mode === "on" ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } : {}),
    });
    if ((mode === "on") !== (config.tracing !== undefined)) throw new Error(`tracing ${mode} but config.tracing is ${JSON.stringify(config.tracing)}`);
    const tokens = await benchTokens(config, TENANT_ID);
    app = await createApp(config, { logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? "silent" }) });
    const { grpcPort } = await app.start();
    const url = `http://127.0.0.1:${grpcPort}`;

    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: url, interceptors: bearer(tokens?.admin) }));
    await admin.createPolicy({
      policy: {
        tenantId: TENANT_ID,
        primaryRegion: "us-east",
        allowedRegions: ["us-west", "ca-central"],
        prohibitedRegions: ["eu-west"],
        complianceFrameworks: [ComplianceFramework.FERPA],
        dataClassification: DataClassification.EDUCATIONAL,
        allowCrossRegionFailover: true,
        dataRetentionDays: 2555,
        emergencyContact: `dpo@${TENANT_ID}.example`,
      },
    });
    // One HTTP/2 connection shared by every call loop (the sidecar case).
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: url, interceptors: bearer(tokens?.service) }));
    const request = create(ResolveAccessRequestSchema, {
      tenantId: TENANT_ID,
      learnerId: "student-42",
      operation: Operation.READ,
      resourceType: "document",
      resourceId: "assignment-456",
      requestedRegion: "us-west",
    });
    const first = await client.resolveAccess(request);
    if (!first.allowed) throw new Error(`ResolveAccess precheck: expected allowed=true, got ${JSON.stringify(first.reasons)}`);

    const drive = async (ms: number) => {
      let decisions = 0;
      let errors = 0;
      let firstError: unknown;
      const deadline = performance.now() + ms;
      const loop = async () => {
        while (performance.now() < deadline) {
          try {
            const answer = await client.resolveAccess(request);
            if (answer.allowed) decisions++;
            else errors++;
          } catch (error) {
            errors++;
            firstError ??= error;
          }
        }
      };
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await Promise.all(Array.from({ length: options.concurrency }, loop));
      const cpu = process.cpuUsage(cpu0);
      const seconds = (performance.now() - t0) / 1000;
      if (firstError !== undefined) log(`  round ${round} (${mode}): first error: ${firstError instanceof Error ? firstError.message : String(firstError)}`);
      return { decisions, errors, seconds, cpuUs: cpu.user + cpu.system };
    };

    await drive(options.warmUpMs);
    const spansBefore = collector.spans();
    const requestsBefore = collector.requests();
    const measured = await drive(options.measureMs);
    await cleanup(); // stops the app: the batch processor flushes what it still holds
    const spans = collector.spans() - spansBefore;
    return {
      mode,
      round,
      decisions: measured.decisions,
      errors: measured.errors,
      seconds: measured.seconds,
      perSec: measured.decisions / measured.seconds,
      cpuNsPerDecision: (measured.cpuUs * 1000) / Math.max(1, measured.decisions),
      meanLatencyNs: (measured.seconds * 1e9 * options.concurrency) / Math.max(1, measured.decisions),
      spans,
      exportRequests: collector.requests() - requestsBefore,
      tracingConfigured: config.tracing !== undefined,
    };
  } finally {
    await cleanup();
    cleanups.delete(cleanup);
  }
}

// --- main --------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rounds = envInt("BENCH_TRACING_ROUNDS", 3);
  const seconds = envInt("BENCH_TRACING_SECONDS", 3);
  const warmUpS = envInt("BENCH_TRACING_WARMUP_SECONDS", 1);
  const concurrency = envInt("BENCH_TRACING_CONCURRENCY", 16);
  log("residency bench: tracing on vs off (issue #7)");
  log(describeMachine(machineInfo()));

  const collector = await startCollector();
  cleanups.add(() => collector.close());
  try {
    log(
      `no-op OTLP collector: ${collector.url}/v1/traces (200, empty body); ${rounds} rounds per mode, alternating off/on, ` +
        `each a fresh app + ${warmUpS} s warm-up + ${seconds} s measured; ResolveAccess (allowed) on the native gRPC listener, ` +
        `connect-node gRPC client, ${concurrency} concurrent call loops on one connection, bearer JWT`,
    );
    const results: RoundResult[] = [];
    for (let r = 1; r <= rounds; r++) {
      // Swap the order every other round (off,on / on,off) so neither mode always goes first.
      const order: Mode[] = r % 2 === 1 ? ["off", "on"] : ["on", "off"];
      for (const mode of order) {
        const result = await runRound(mode, r, { collector, concurrency, warmUpMs: warmUpS * 1000, measureMs: seconds * 1000 });
        results.push(result);
        log(
          `  round ${r} tracing ${mode.padEnd(3)}: ${formatInt(result.perSec)} decisions/s (${formatInt(result.decisions)} in ${result.seconds.toFixed(2)} s, ` +
            `${result.errors} errors), spans received ${formatInt(result.spans)} in ${result.exportRequests} export requests`,
        );
      }
    }

    const of = (mode: Mode) => results.filter((x) => x.mode === mode);
    const summary = (mode: Mode) => {
      const rs = of(mode);
      const decisions = rs.reduce((s, x) => s + x.decisions, 0);
      const secs = rs.reduce((s, x) => s + x.seconds, 0);
      return {
        rs,
        medianPerSec: median(rs.map((x) => x.perSec)),
        pooledPerSec: decisions / secs,
        decisions,
        errors: rs.reduce((s, x) => s + x.errors, 0),
        cpu: median(rs.map((x) => x.cpuNsPerDecision)),
        latency: median(rs.map((x) => x.meanLatencyNs)),
        spans: rs.reduce((s, x) => s + x.spans, 0),
      };
    };
    const off = summary("off");
    const on = summary("on");
    log();
    log(
      textTable(
        ["tracing", "rounds decisions/s", "median decisions/s", "pooled decisions/s", "decisions", "errors", "mean latency", "cpu/decision", "spans received", "spans/decision"],
        [off, on].map((s, i) => [
          i === 0 ? "off" : "on (OTLP → no-op)",
          s.rs.map((x) => formatInt(x.perSec)).join(" / "),
          formatInt(s.medianPerSec),
          formatInt(s.pooledPerSec),
          formatInt(s.decisions),
          String(s.errors),
          formatNs(s.latency),
          formatNs(s.cpu),
          formatInt(s.spans),
          (s.spans / Math.max(1, s.decisions)).toFixed(2),
        ]),
      ),
    );
    log();
    log(
      `on / off: ${(on.medianPerSec / off.medianPerSec).toFixed(3)} (medians), ${(on.pooledPerSec / off.pooledPerSec).toFixed(3)} (pooled); ` +
        `cpu/decision on / off: ${(on.cpu / off.cpu).toFixed(3)}  (cpu: this process, app and client together)`,
    );
    log(`collector: ${formatInt(collector.spans())} spans in ${collector.requests()} export requests; problems: ${collector.problems().length === 0 ? "none" : collector.problems().join("; ")}`);
    log(`load average at the end: ${loadAverageNow().join(" / ")}`);

    const failures: string[] = [];
    if (off.spans !== 0) failures.push(`OFF rounds exported ${off.spans} spans`);
    for (const x of on.rs) if (x.spans <= 0) failures.push(`ON round ${x.round} exported no spans`);
    if (off.errors + on.errors > 0) failures.push(`${off.errors + on.errors} failed calls`);
    if (collector.problems().length > 0) failures.push("collector problems");
    if (failures.length > 0) throw new Error(failures.join("; "));
  } finally {
    for (const cleanup of [...cleanups].reverse()) await cleanup();
    cleanups.clear();
  }
}

let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
  log("\ninterrupted: stopping the app and the collector, deleting temp dirs");
  void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
});

try {
  await main();
} catch (error) {
  if (!interrupted) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
setTimeout(() => {
  process.stderr.write("bench: something kept the event loop alive after cleanup; exiting\n");
  process.exit(process.exitCode ?? 0);
}, 3_000).unref();
