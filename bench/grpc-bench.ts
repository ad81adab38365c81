// Part 2: the service over the network. The app runs in a process of its own (app-process.ts: ephemeral
// ports, a temp DATA_DIR, a silent logger), as a deployed replica would, without part 1's data in its heap;
// h2load, a separate process, drives pre-encoded gRPC requests at it: ResolveAccess
// (an allowed decision) against grpc.health.v1.Health/Check, the cheapest RPC the same listener serves,
// so the ratio shows what the decision path costs on top of the transport.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../gen/health/v1/health_pb.js";
import { AdminService } from "../gen/residency/v1/admin_service_pb.js";
import {
  ResidencyService,
  ResolveAccessRequestSchema,
  ResolveAccessResponseSchema,
  type ResolveAccessRequest,
} from "../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, DataClassification, Operation } from "../gen/residency/v1/types_pb.js";
import { loadConfig } from "../src/config.js";
import { BENCH_SECRET_KEY, benchTokens } from "./auth.js";
import { startAppProcess, type AppProcess } from "./app-process-client.js";
import { grpcFrame, grpcMessages, rawGrpcCall } from "./grpc-frames.js";
import { runH2load, runH2loadCount, type H2loadResult } from "./h2load.js";
import { median } from "./stats.js";

export const RESOLVE_PATH = "/residency.v1.ResidencyService/ResolveAccess";
export const CHECK_PATH = "/grpc.health.v1.Health/Check";
export const GRPC_HEADERS = ["content-type: application/grpc", "te: trailers"] as const;
const TENANT_ID = "bench-edu";

/** The ResolveAccess the benches send: allowed (learner student-42, READ, requested us-west) under the bench policy. */
export function benchResolveRequest(tenantId: string): ResolveAccessRequest {
  return create(ResolveAccessRequestSchema, {
    tenantId,
    learnerId: "student-42",
    operation: Operation.READ,
    resourceType: "document",
    resourceId: "assignment-456",
    requestedRegion: "us-west",
  });
}

function bearer(token: string | undefined): Interceptor[] {
  if (token === undefined) return [];
  return [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    },
  ];
}

export interface Level {
  /** h2load -c: HTTP/2 connections. */
  readonly clients: number;
  /** h2load -m: concurrent streams per connection. */
  readonly streams: number;
}

/** 1, 16 and 64 requests in flight; -c 1 -m 64 is the sidecar case (one HTTP/2 connection). */
export const BENCH_LEVELS: readonly Level[] = [
  { clients: 1, streams: 1 },
  { clients: 1, streams: 16 },
  { clients: 4, streams: 16 },
  { clients: 1, streams: 64 },
];

export interface GrpcBenchOptions {
  readonly levels: readonly Level[];
  /** Measured runs of each RPC per level, alternating (ABBA): one run is within the machine's noise, not a figure. */
  readonly rounds: number;
  readonly durationS: number;
  readonly warmUpS: number;
  readonly log: (line: string) => void;
}

export interface H2loadPrecheck {
  readonly path: string;
  readonly requests: number;
  readonly succeeded: number;
  readonly status2xx: number;
  readonly dataBytesPerRequest: number;
}

export interface Verification {
  readonly listener: string;
  /** Bytes of the ResolveAccess / Check response bodies, as h2load counts "data" per request. */
  readonly resolveBodyBytes: number;
  readonly checkBodyBytes: number;
  readonly resolve: { allowed: boolean; targetRegion: string; reasons: string[]; grpcStatus: number | undefined };
  readonly check: { status: string; grpcStatus: number | undefined };
  /** What a connect-node client saw for the same request message. */
  readonly client: { allowed: boolean; headers: Record<string, string>; trailers: Record<string, string> };
  /** A fixed-count h2load run per RPC whose response bytes must be n × the verified body size. */
  readonly h2loadPrecheck: readonly H2loadPrecheck[];
}

/** One h2load run with the figures the tables need (h2load's raw output dropped). */
export interface RunSummary {
  readonly args: string;
  readonly reqPerSec: number;
  readonly seconds: number;
  readonly requests: H2loadResult["requests"];
  readonly statusCodes: H2loadResult["statusCodes"];
  /** Response DATA bytes per completed request (compare with the verified body size). */
  readonly dataBytesPerRequest: number;
  /** Nanoseconds, "time for request" of h2load. */
  readonly latencyMeanNs: number | undefined;
  readonly latencyMaxNs: number | undefined;
  readonly latencySdNs: number | undefined;
  /**
   * CPU time of the app's process (all its threads: the writer thread, the garbage collector's) during the measured
   * run, per completed request, and as a share of one core. Less sensitive to other load on the
   * machine than req/s: it is what one answer costs the server.
   */
  readonly serverCpuUsPerRequest: number | undefined;
  readonly serverCpuShare: number | undefined;
}

export interface LevelResult {
  readonly clients: number;
  readonly streams: number;
  /** clients × streams: requests in flight. */
  readonly concurrency: number;
  /** Of the first round; the rounds alternate. */
  readonly order: "ResolveAccess first" | "Check first";
  /** The run with the median req/s of each RPC. */
  readonly resolve: RunSummary;
  readonly check: RunSummary;
  /** Median ResolveAccess req/s ÷ median Check req/s. */
  readonly ratio: number;
  /** Every round's req/s, in order, and each round's own ResolveAccess/Check ratio (the spread). */
  readonly rounds: { readonly resolveReqPerSec: number[]; readonly checkReqPerSec: number[]; readonly ratios: number[] };
  /** Anything that makes the row suspect (failed requests, non-2xx, short response bodies). */
  readonly problems: readonly string[];
}

export interface ListenerResult {
  readonly listener: "native grpc-js" | "connect";
  readonly url: string;
  readonly verification: Verification;
  readonly levels: readonly LevelResult[];
}

export interface GrpcBenchResult {
  readonly request: { json: unknown; frameBytes: number };
  /** "bearer JWT …" when the service authenticates callers, else "none". */
  readonly auth: string;
  readonly durationS: number;
  readonly warmUpS: number;
  readonly listeners: readonly ListenerResult[];
}

/** The service settings a bench run may choose (AUDIT_WRITER_SCHED=idle npm run bench): passed on to the app. */
const BENCH_APP_SETTINGS = ["AUDIT_WRITER_SCHED", "AUDIT_WRITER_NICE"] as const;

export function benchAppSettings(): Record<string, string> {
  return Object.fromEntries(BENCH_APP_SETTINGS.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
}

let cleanupInProgress: (() => Promise<void>) | undefined;

/** Stops the app and deletes the temp dir if a run is in progress (for SIGINT). */
export async function abortGrpcBench(): Promise<void> {
  await cleanupInProgress?.();
}

export async function runGrpcBench(options: GrpcBenchOptions): Promise<GrpcBenchResult> {
  const { log } = options;
  const dir = await mkdtemp(join(tmpdir(), "residency-bench-"));
  let app: AppProcess | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      try {
        await app?.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })());
  cleanupInProgress = cleanup;
  try {
    const env = {
      HOST: "127.0.0.1",
      PORT: "0",
      GRPC_PORT: "0",
      // Read by versions of the service with a Prometheus listener; ignored by those without.
      METRICS_PORT: "0",
      DATA_DIR: join(dir, "data"),
      SHUTDOWN_GRACE_MS: "2000",
      // Read by versions of the service that authenticate callers; ignored by those without.
      SECRET_KEY: BENCH_SECRET_KEY,
      ...benchAppSettings(),
    };
    const tokens = await benchTokens(loadConfig(env), TENANT_ID);
    const server = await startAppProcess(env);
    app = server;
    const { port, grpcPort } = server;
    const connectUrl = `http://127.0.0.1:${port}`;
    const nativeUrl = `http://127.0.0.1:${grpcPort}`;
    log(`app started: Connect listener ${connectUrl}, native gRPC listener ${nativeUrl}, DATA_DIR ${join(dir, "data")}, settings ${JSON.stringify(benchAppSettings())}`);

    const auth =
      tokens === undefined
        ? "none (this version of the service does not authenticate callers)"
        : `bearer JWT (HS256, role service, tenant ${TENANT_ID}) in every h2load and client request`;
    log(`authentication: ${auth}`);
    const headers = tokens === undefined ? [...GRPC_HEADERS] : [...GRPC_HEADERS, `authorization: Bearer ${tokens.service}`];
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: nativeUrl, interceptors: bearer(tokens?.admin) }));
    const created = await admin.createPolicy({
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
    log(`tenant policy created through AdminService/CreatePolicy: ${created.policy?.policyId} (tenant ${TENANT_ID}, us-east, FERPA)`);

    const request = benchResolveRequest(TENANT_ID);
    const resolveBody = grpcFrame(toBinary(ResolveAccessRequestSchema, request));
    const checkBody = grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })));
    const resolveFile = join(dir, "resolve-access.grpc");
    const checkFile = join(dir, "health-check.grpc");
    await writeFile(resolveFile, resolveBody);
    await writeFile(checkFile, checkBody);
    log(`pre-encoded: ResolveAccess ${resolveBody.length} bytes (${resolveFile}), Health/Check ${checkBody.length} bytes`);

    const listeners: ListenerResult[] = [];
    for (const [listener, url] of [
      ["native grpc-js", nativeUrl],
      ["connect", connectUrl],
    ] as const) {
      const verification = await verify(listener, url, headers, tokens?.service, resolveBody, checkBody, resolveFile, checkFile);
      log(
        `verified on ${listener} (${url}): ResolveAccess → grpc-status ${verification.resolve.grpcStatus}, allowed=${verification.resolve.allowed}, ` +
          `target ${verification.resolve.targetRegion}, reasons [${verification.resolve.reasons.join(", ")}], ${verification.resolveBodyBytes} body bytes; ` +
          `Check → grpc-status ${verification.check.grpcStatus}, ${verification.check.status}; connect-node client: allowed=${verification.client.allowed}, ` +
          `trailers ${JSON.stringify(verification.client.trailers)}`,
      );
      log(
        `h2load precheck on ${listener}: ` +
          verification.h2loadPrecheck
            .map((p) => `${p.path} ${p.succeeded}/${p.requests} succeeded, ${p.status2xx} 2xx, ${p.dataBytesPerRequest.toFixed(1)} response bytes each`)
            .join("; "),
      );
      const levels: LevelResult[] = [];
      for (const [i, level] of options.levels.entries()) {
        // A separate warm-up run rather than h2load's --warm-up-time: h2load's traffic counters include
        // the warm-up while its request counts do not, and the byte check below needs both to agree.
        const run = async (path: string, file: string): Promise<Measured> => {
          const spec = { clients: level.clients, streams: level.streams, url: `${url}${path}`, dataFile: file, headers };
          await runH2load({ ...spec, durationS: options.warmUpS });
          return measured(server, () => runH2load({ ...spec, durationS: options.durationS }));
        };
        const resolves: Measured[] = [];
        const checks: Measured[] = [];
        const inFlight = level.clients * level.streams;
        const problems: string[] = [];
        for (let round = 0; round < options.rounds; round++) {
          // ABBA across rounds and levels, so that drift and each run's after-effects (the audit writer catching
          // up, a collection) fall on both RPCs alike.
          if ((i + round) % 2 === 0) {
            resolves.push(await run(RESOLVE_PATH, resolveFile));
            checks.push(await run(CHECK_PATH, checkFile));
          } else {
            checks.push(await run(CHECK_PATH, checkFile));
            resolves.push(await run(RESOLVE_PATH, resolveFile));
          }
          problems.push(
            ...problemsOf(`ResolveAccess (round ${round + 1})`, resolves[round]!.result, verification.h2loadPrecheck[0]!, inFlight),
            ...problemsOf(`Check (round ${round + 1})`, checks[round]!.result, verification.h2loadPrecheck[1]!, inFlight),
          );
        }
        const resolveReqPerSec = resolves.map((m) => m.result.reqPerSec);
        const checkReqPerSec = checks.map((m) => m.result.reqPerSec);
        const row: LevelResult = {
          clients: level.clients,
          streams: level.streams,
          concurrency: inFlight,
          order: i % 2 === 0 ? "ResolveAccess first" : "Check first",
          resolve: summarize(medianRun(resolves)),
          check: summarize(medianRun(checks)),
          ratio: median(resolveReqPerSec) / median(checkReqPerSec),
          rounds: { resolveReqPerSec, checkReqPerSec, ratios: resolveReqPerSec.map((r, k) => r / checkReqPerSec[k]!) },
          problems,
        };
        levels.push(row);
        const spread = row.rounds.ratios.map((r) => r.toFixed(2)).join(" ");
        log(
          `  ${listener} -c ${level.clients} -m ${level.streams}: ResolveAccess ${Math.round(median(resolveReqPerSec))} req/s, ` +
            `Check ${Math.round(median(checkReqPerSec))} req/s (medians of ${options.rounds}), ratio ${row.ratio.toFixed(2)} ` +
            `(rounds: ${spread})${row.problems.length ? `  PROBLEMS: ${row.problems.join("; ")}` : ""}`,
        );
      }
      // The same bytes must still be answered the same way after the load (no degraded mode, no errors).
      const after = await rawGrpcCall(url, RESOLVE_PATH, resolveBody, headers);
      if (after.grpcStatus !== 0) throw new Error(`${listener}: after the runs ResolveAccess answered grpc-status ${after.grpcStatus}`);
      listeners.push({ listener, url, verification, levels });
    }
    return {
      request: { json: request, frameBytes: resolveBody.length },
      auth,
      durationS: options.durationS,
      warmUpS: options.warmUpS,
      listeners,
    };
  } finally {
    await cleanup();
    cleanupInProgress = undefined;
  }
}

/**
 * Sends the exact pre-encoded bytes once over raw HTTP/2 (h2load's view: status, body size) and decodes
 * the answer; then the same request through a connect-node gRPC client, sampling its headers and trailers.
 * Throws unless ResolveAccess is answered grpc-status 0 with allowed=true and Check with SERVING.
 */
async function verify(
  listener: string,
  url: string,
  requestHeaders: readonly string[],
  serviceToken: string | undefined,
  resolveBody: Buffer,
  checkBody: Buffer,
  resolveFile: string,
  checkFile: string,
): Promise<Verification> {
  const raw = await rawGrpcCall(url, RESOLVE_PATH, resolveBody, requestHeaders);
  const [message] = raw.messages;
  if (raw.httpStatus !== 200 || raw.grpcStatus !== 0 || message === undefined || raw.messages.length !== 1) {
    throw new Error(
      `${listener}: the pre-encoded ResolveAccess was answered HTTP ${raw.httpStatus}, grpc-status ${raw.grpcStatus} ` +
        `(${raw.grpcMessage}), ${raw.messages.length} messages: the h2load figures would measure errors`,
    );
  }
  const response = fromBinary(ResolveAccessResponseSchema, message);
  if (!response.allowed) throw new Error(`${listener}: the pre-encoded ResolveAccess was denied: ${JSON.stringify(response.reasons)}`);

  const rawCheck = await rawGrpcCall(url, CHECK_PATH, checkBody, requestHeaders);
  const [checkMessage] = rawCheck.messages;
  if (rawCheck.httpStatus !== 200 || rawCheck.grpcStatus !== 0 || checkMessage === undefined) {
    throw new Error(`${listener}: Health/Check was answered HTTP ${rawCheck.httpStatus}, grpc-status ${rawCheck.grpcStatus}`);
  }
  const health = fromBinary(HealthCheckResponseSchema, checkMessage);
  if (health.status !== HealthCheckResponse_ServingStatus.SERVING) {
    throw new Error(`${listener}: Health/Check answered ${HealthCheckResponse_ServingStatus[health.status]}`);
  }

  const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: url, interceptors: bearer(serviceToken) }));
  const headers: Record<string, string> = {};
  const trailers: Record<string, string> = {};
  const viaClient = await client.resolveAccess(fromBinary(ResolveAccessRequestSchema, grpcMessages(resolveBody)[0]!), {
    onHeader: (h) => h.forEach((value, key) => (headers[key] = value)),
    onTrailer: (t) => t.forEach((value, key) => (trailers[key] = value)),
  });
  if (!viaClient.allowed) throw new Error(`${listener}: the connect-node client got allowed=false`);

  const h2loadPrecheck: H2loadPrecheck[] = [];
  for (const [path, file, expected] of [
    [RESOLVE_PATH, resolveFile, raw.bodyBytes],
    [CHECK_PATH, checkFile, rawCheck.bodyBytes],
  ] as const) {
    const n = PRECHECK_REQUESTS;
    const result = await runH2loadCount({ clients: 1, streams: 16, requests: n, url: `${url}${path}`, dataFile: file, headers: requestHeaders });
    const perRequest = result.traffic.data / n;
    // The decision id has a fixed length; only the timestamp's nanos vary (0–5 bytes).
    if (result.requests.succeeded !== n || result.statusCodes["2xx"] !== n || Math.abs(perRequest - expected) > 6) {
      throw new Error(
        `${listener}: h2load ${path}: ${result.requests.succeeded}/${n} succeeded, ${result.statusCodes["2xx"]} 2xx, ` +
          `${perRequest.toFixed(1)} response bytes per request where the verified answer has ${expected}: not what was verified`,
      );
    }
    h2loadPrecheck.push({
      path,
      requests: n,
      succeeded: result.requests.succeeded,
      status2xx: result.statusCodes["2xx"],
      dataBytesPerRequest: perRequest,
    });
  }

  return {
    listener,
    resolveBodyBytes: raw.bodyBytes,
    checkBodyBytes: rawCheck.bodyBytes,
    resolve: {
      allowed: response.allowed,
      targetRegion: response.targetRegion,
      reasons: response.reasons.map((r) => String(r.code)),
      grpcStatus: raw.grpcStatus,
    },
    check: { status: HealthCheckResponse_ServingStatus[health.status] ?? String(health.status), grpcStatus: rawCheck.grpcStatus },
    client: { allowed: viaClient.allowed, headers, trailers },
    h2loadPrecheck,
  };
}

const PRECHECK_REQUESTS = 2_000;

interface Measured {
  readonly result: H2loadResult;
  readonly serverCpuUs: number | undefined;
  readonly wallMs: number;
}

/** Runs h2load, sampling the app process's CPU time over the run. */
async function measured(server: AppProcess, run: () => Promise<H2loadResult>): Promise<Measured> {
  const cpuStart = await server.cpuMicros();
  const wallStart = performance.now();
  const result = await run();
  const wallMs = performance.now() - wallStart;
  return { result, serverCpuUs: (await server.cpuMicros()) - cpuStart, wallMs };
}

/** The run whose req/s is the median (the lower middle one for an even count). */
function medianRun(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.result.reqPerSec - b.result.reqPerSec);
  return sorted[(sorted.length - 1) >> 1]!;
}

function summarize(m: Measured): RunSummary {
  const { result } = m;
  const done = result.requests.done;
  return {
    // The bench's own short-lived token, signed with its own secret; still, keep it out of the results.
    args: `h2load ${result.args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`.replace(/Bearer [\w.-]+/g, "Bearer <token>"),
    reqPerSec: result.reqPerSec,
    seconds: result.seconds,
    requests: result.requests,
    statusCodes: result.statusCodes,
    dataBytesPerRequest: result.requests.done === 0 ? 0 : result.traffic.data / result.requests.done,
    latencyMeanNs: result.latency?.mean,
    latencyMaxNs: result.latency?.max,
    latencySdNs: result.latency?.sd,
    serverCpuUsPerRequest: m.serverCpuUs === undefined || done === 0 ? undefined : m.serverCpuUs / done,
    serverCpuShare: m.serverCpuUs === undefined || m.wallMs === 0 ? undefined : m.serverCpuUs / 1000 / m.wallMs,
  };
}

/**
 * h2load counts any HTTP 200 as success, and a gRPC error is an HTTP 200 with grpc-status in the trailers
 * and no DATA. The precheck proved byte for byte that h2load's requests get the verified answer, and
 * gave the response DATA bytes per request; a timed run must match it within 2% (plus what the requests
 * still in flight at the end may have received), or some of its answers carried no message.
 */
function problemsOf(name: string, result: H2loadResult, precheck: H2loadPrecheck, inFlight: number): string[] {
  const problems: string[] = [];
  const { requests, statusCodes } = result;
  if (requests.done === 0) problems.push(`${name}: no request completed`);
  if (requests.failed + requests.errored + requests.timeout > 0) {
    problems.push(`${name}: ${requests.failed} failed, ${requests.errored} errored, ${requests.timeout} timed out`);
  }
  const non2xx = statusCodes["3xx"] + statusCodes["4xx"] + statusCodes["5xx"];
  if (non2xx > 0) problems.push(`${name}: ${non2xx} non-2xx answers`);
  if (requests.done > 0) {
    const expected = precheck.dataBytesPerRequest;
    const perRequest = result.traffic.data / requests.done;
    const high = expected * 1.02 + (inFlight * expected) / requests.done;
    if (perRequest < expected * 0.98 || perRequest > high) {
      problems.push(`${name}: ${perRequest.toFixed(2)} response bytes per request, ${expected.toFixed(2)} in the precheck (gRPC errors?)`);
    }
  }
  return problems;
}
