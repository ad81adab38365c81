// Part 1: the decision engine in process, no network. decide() alone over a realistic snapshot, then the
// API edge a ResolveAccess pays around it (decode, map, decide, map back, encode), stage by stage.
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ResolveAccessRequestSchema,
  ResolveAccessResponseSchema,
  type ResolveAccessRequest,
} from "../gen/residency/v1/residency_service_pb.js";
import { decisionRequestFromProto } from "../src/api/access-request-mapping.js";
import { decisionToProto } from "../src/api/decision-mapping.js";
import { classificationMapping, operationMapping } from "../src/api/enum-mapping.js";
import { decide } from "../src/domain/decide.js";
import type { Decision, DecisionRequest } from "../src/domain/decision.js";
import { DEFAULT_REGIONS } from "../src/domain/default-region-catalog.js";
import type { FieldViolation } from "../src/domain/errors.js";
import { buildSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import { measureMemoryLatency, type MemoryLatency } from "./memory-latency.js";
import { buildPopulation } from "./population.js";
import { hrtimeOverhead, median, summarize, type LatencySummary } from "./stats.js";

export interface DecideBenchOptions {
  readonly tenants: number;
  readonly learnersPerTenant: number;
  /** Requests the loops cycle through (a power of two). */
  readonly requestPool: number;
  readonly warmUpMs: number;
  /** Tight-loop rounds for the throughput figure, and how long each runs. */
  readonly rounds: number;
  readonly roundMs: number;
  /** Individually timed decide() calls. */
  readonly latencySamples: number;
  /** Individually timed API-edge calls. */
  readonly edgeSamples: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface StageResult {
  readonly stage: string;
  /** "server" stages are what the service pays per ResolveAccess; "client" ones are the caller's. */
  readonly side: "server" | "client";
  readonly latency: LatencySummary;
}

export interface DecideBenchResult {
  readonly population: {
    readonly tenants: number;
    readonly learnersPerTenant: number;
    readonly policies: number;
    readonly requestPool: number;
    readonly invalidArchetypes: readonly string[];
    readonly snapshotBuildMs: number;
    /** First pass over the request pool, which also builds each (policy, region) plan on first use. */
    readonly coldPassNsPerDecision: number;
    readonly allowedShare: number;
    /** Decisions by outcome and first reason code over the request pool. */
    readonly outcomes: Readonly<Record<string, number>>;
  };
  readonly timerOverhead: LatencySummary;
  /** The machine's cost of one dependent load from main memory, what the random mix's calls are chains of. */
  readonly memoryLatency: MemoryLatency;
  readonly throughput: {
    readonly roundsPerSec: readonly number[];
    readonly medianPerSec: number;
    readonly bestPerSec: number;
    /** CPU time this process got ÷ wall time over the rounds: below ~0.95, other work took the core. */
    readonly cpuShare: number;
  };
  readonly latency: {
    readonly all: LatencySummary;
    readonly allowed: LatencySummary;
    readonly denied: LatencySummary;
    /**
     * The first HOT_SET requests of the pool over and over: their policies and plans stay in the CPU
     * caches. Against `all`, it tells the engine's own cost from the memory traffic of 10k tenants.
     */
    readonly hotSet: LatencySummary;
  };
  readonly edge: {
    readonly stages: readonly StageResult[];
    /** decode request → validate/map → decide → uuid → map → create → encode response, timed as one. */
    readonly serverPath: LatencySummary;
    readonly serverPathPerSec: number;
  };
}

/** Requests in the cache-resident pass (a power of two). */
export const HOT_SET = 64;

/** Keeps results observable so the JIT cannot drop the work. */
let sink = 0;

export async function runDecideBench(options: DecideBenchOptions): Promise<DecideBenchResult> {
  const { log } = options;
  if ((options.requestPool & (options.requestPool - 1)) !== 0) throw new Error("requestPool must be a power of two");
  const mask = options.requestPool - 1;

  const population = buildPopulation({
    tenants: options.tenants,
    learnersPerTenant: options.learnersPerTenant,
    requests: options.requestPool,
    seed: options.seed,
  });
  for (const problem of population.invalid) log(`  WARNING: archetype policy refused by the write-time rules: ${problem}`);
  const buildStarted = performance.now();
  const snapshot = buildSnapshot({
    version: 1,
    regions: DEFAULT_REGIONS,
    policies: population.policies,
    defaultRegion: undefined,
    builtAt: Date.now(),
  });
  const snapshotBuildMs = performance.now() - buildStarted;
  const requests = population.requests;
  const now = Date.now();

  // The mix, decided once (this also fills the per-policy region-plan memos, as traffic would).
  const outcomes: Record<string, number> = {};
  let allowedCount = 0;
  const allowedFlags = new Uint8Array(requests.length);
  const coldStarted = performance.now();
  for (const [i, request] of requests.entries()) {
    const decision = decide(snapshot, request, now);
    if (decision.allowed) {
      allowedCount++;
      allowedFlags[i] = 1;
    }
    const key = `${decision.allowed ? "allow" : "deny"} ${decision.reasons.find((r) => r.effect === "DENY")?.code ?? decision.reasons[0]?.code ?? "-"}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const coldPassNsPerDecision = ((performance.now() - coldStarted) * 1e6) / requests.length;
  log(
    `  population: ${options.tenants} tenants × (1 tenant + ${options.learnersPerTenant} learner policies) = ${population.policies.length} policies; ` +
      `snapshot built in ${Math.round(snapshotBuildMs)} ms; ${requests.length} distinct requests, ${((100 * allowedCount) / requests.length).toFixed(1)}% allowed; ` +
      `first (cold) pass ${Math.round(coldPassNsPerDecision)} ns per decision`,
  );

  // Warm-up: let the JIT settle on the mix before anything is measured.
  const warmUntil = performance.now() + options.warmUpMs;
  let i = 0;
  while (performance.now() < warmUntil) {
    for (let k = 0; k < 10_000; k++) sink ^= decide(snapshot, requests[i++ & mask]!, now).allowed ? 1 : 0;
  }

  // Throughput: a tight loop, the clock read once per 10,000 decisions.
  const roundsPerSec: number[] = [];
  const cpuBefore = process.cpuUsage();
  const roundsStarted = performance.now();
  for (let round = 0; round < options.rounds; round++) {
    let count = 0;
    const started = performance.now();
    const until = started + options.roundMs;
    let elapsed = 0;
    for (;;) {
      for (let k = 0; k < 10_000; k++) sink ^= decide(snapshot, requests[i++ & mask]!, now).allowed ? 1 : 0;
      count += 10_000;
      const t = performance.now();
      if (t >= until) {
        elapsed = t - started;
        break;
      }
    }
    roundsPerSec.push((count / elapsed) * 1000);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - roundsStarted);

  // Latency: every call timed on its own, in a separate pass.
  const timerOverhead = hrtimeOverhead();
  const samples = new Float64Array(options.latencySamples);
  const kinds = new Uint8Array(options.latencySamples);
  for (let s = 0; s < options.latencySamples; s++) {
    const index = i++ & mask;
    const request = requests[index]!;
    const t0 = process.hrtime.bigint();
    const decision = decide(snapshot, request, now);
    const t1 = process.hrtime.bigint();
    samples[s] = Number(t1 - t0);
    kinds[s] = allowedFlags[index]!;
    sink ^= decision.allowed ? 1 : 0;
  }
  const hotSamples = new Float64Array(options.latencySamples >> 1);
  for (let s = 0; s < hotSamples.length; s++) {
    const request = requests[s & (HOT_SET - 1)]!;
    const t0 = process.hrtime.bigint();
    const decision = decide(snapshot, request, now);
    const t1 = process.hrtime.bigint();
    hotSamples[s] = Number(t1 - t0);
    sink ^= decision.allowed ? 1 : 0;
  }
  const allowedSamples = samples.filter((_, s) => kinds[s] === 1);
  const deniedSamples = samples.filter((_, s) => kinds[s] === 0);

  const edge = runEdge(snapshot, requests, options, now);
  // Last: its 256 MB chase evicts every cache the passes above would have read from.
  const memoryLatency = measureMemoryLatency();

  return {
    population: {
      tenants: options.tenants,
      learnersPerTenant: options.learnersPerTenant,
      policies: population.policies.length,
      requestPool: requests.length,
      invalidArchetypes: population.invalid,
      snapshotBuildMs,
      coldPassNsPerDecision,
      allowedShare: allowedCount / requests.length,
      outcomes,
    },
    timerOverhead,
    memoryLatency,
    throughput: { roundsPerSec, medianPerSec: median(roundsPerSec), bestPerSec: Math.max(...roundsPerSec), cpuShare },
    latency: {
      all: summarize(samples),
      allowed: summarize(allowedSamples),
      denied: summarize(deniedSamples),
      hotSet: summarize(hotSamples),
    },
    edge,
  };
}

function toProtoRequest(request: DecisionRequest): ResolveAccessRequest {
  return create(ResolveAccessRequestSchema, {
    tenantId: request.tenantId,
    learnerId: request.learnerId,
    operation: operationMapping.toProto(request.operation),
    resourceType: "document",
    resourceId: "assignment-456",
    requestedRegion: request.requestedRegion,
    dataClassification: request.dataClassification === undefined ? 0 : classificationMapping.toProto(request.dataClassification),
  });
}

const STAGES: readonly { stage: string; side: "server" | "client" }[] = [
  { stage: "toBinary(ResolveAccessRequest)", side: "client" },
  { stage: "fromBinary(ResolveAccessRequest)", side: "server" },
  { stage: "decisionRequestFromProto", side: "server" },
  { stage: "decide", side: "server" },
  { stage: "randomUUID (decision id)", side: "server" },
  { stage: "decisionToProto", side: "server" },
  { stage: "create(ResolveAccessResponse)", side: "server" },
  { stage: "toBinary(ResolveAccessResponse)", side: "server" },
  { stage: "fromBinary(ResolveAccessResponse)", side: "client" },
];

/**
 * The edge without the network: what the handler and the gRPC adapter's (de)serializers do per call.
 * One pass timestamps every stage boundary (one hrtime read per stage); a second pass times the server
 * stages as one, and a tight loop gives their throughput.
 */
function runEdge(
  snapshot: Snapshot,
  requests: readonly DecisionRequest[],
  options: DecideBenchOptions,
  now: number,
): DecideBenchResult["edge"] {
  const protoRequests = requests.map(toProtoRequest);
  const encoded = protoRequests.map((r) => toBinary(ResolveAccessRequestSchema, r));
  const mask = requests.length - 1;
  const version = snapshot.version;

  const serverPath = (bytes: Uint8Array): Uint8Array => {
    const message = fromBinary(ResolveAccessRequestSchema, bytes);
    const violations: FieldViolation[] = [];
    const request = decisionRequestFromProto(message, snapshot, "", violations);
    const decision: Decision = decide(snapshot, request, now);
    const init = decisionToProto(decision, { decisionId: randomUUID(), snapshotVersion: version, decidedAt: now });
    return toBinary(ResolveAccessResponseSchema, create(ResolveAccessResponseSchema, init));
  };

  // Warm-up of the whole edge.
  let i = 0;
  const warmUntil = performance.now() + Math.min(options.warmUpMs, 1_000);
  while (performance.now() < warmUntil) {
    for (let k = 0; k < 1_000; k++) sink ^= serverPath(encoded[i++ & mask]!).length;
  }

  const n = options.edgeSamples;
  const stageSamples = STAGES.map(() => new Float64Array(n));
  for (let s = 0; s < n; s++) {
    const index = i++ & mask;
    const t0 = process.hrtime.bigint();
    const bytes = toBinary(ResolveAccessRequestSchema, protoRequests[index]!);
    const t1 = process.hrtime.bigint();
    const message = fromBinary(ResolveAccessRequestSchema, bytes);
    const t2 = process.hrtime.bigint();
    const violations: FieldViolation[] = [];
    const request = decisionRequestFromProto(message, snapshot, "", violations);
    const t3 = process.hrtime.bigint();
    const decision = decide(snapshot, request, now);
    const t4 = process.hrtime.bigint();
    const decisionId = randomUUID();
    const t5 = process.hrtime.bigint();
    const init = decisionToProto(decision, { decisionId, snapshotVersion: version, decidedAt: now });
    const t6 = process.hrtime.bigint();
    const response = create(ResolveAccessResponseSchema, init);
    const t7 = process.hrtime.bigint();
    const out = toBinary(ResolveAccessResponseSchema, response);
    const t8 = process.hrtime.bigint();
    const back = fromBinary(ResolveAccessResponseSchema, out);
    const t9 = process.hrtime.bigint();
    const marks = [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9];
    for (let k = 0; k < STAGES.length; k++) stageSamples[k]![s] = Number(marks[k + 1]! - marks[k]!);
    sink ^= back.allowed ? 1 : 0;
  }

  const whole = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const bytes = encoded[i++ & mask]!;
    const t0 = process.hrtime.bigint();
    const out = serverPath(bytes);
    const t1 = process.hrtime.bigint();
    whole[s] = Number(t1 - t0);
    sink ^= out.length;
  }

  let count = 0;
  const started = performance.now();
  const until = started + options.roundMs;
  let elapsed = 0;
  for (;;) {
    for (let k = 0; k < 1_000; k++) sink ^= serverPath(encoded[i++ & mask]!).length;
    count += 1_000;
    const t = performance.now();
    if (t >= until) {
      elapsed = t - started;
      break;
    }
  }

  return {
    stages: STAGES.map((s, k) => ({ ...s, latency: summarize(stageSamples[k]!) })),
    serverPath: summarize(whole),
    serverPathPerSec: (count / elapsed) * 1000,
  };
}

/** Read by nobody; exported so the sink cannot be proven dead. */
export function benchSink(): number {
  return sink;
}
