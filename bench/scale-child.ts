// The measuring half of bench/scale.ts, in a process of its own so that its memory is the replica's alone.
// Usage: node --expose-gc --import tsx bench/scale-child.ts <postgres-url>; prints one JSON line.
import { DEFAULT_REGIONS } from "../src/domain/default-region-catalog.js";
import { decide } from "../src/domain/decide.js";
import type { DecisionRequest } from "../src/domain/decision.js";
import type { StoredPolicy } from "../src/domain/policy.js";
import type { Operation } from "../src/domain/vocabulary.js";
import { applySnapshotChanges } from "../src/snapshot/apply-snapshot-changes.js";
import { buildSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import { createPostgresPolicyStore } from "../src/store/postgres/postgres-policy-store.js";
import { seededRandom, summarize, type LatencySummary } from "./stats.js";

export interface ScaleChildResult {
  readonly policies: number;
  readonly tenants: number;
  /** Store open + read + merge: what a replica does before it serves. */
  readonly loadMs: number;
  readonly readMs: number;
  readonly buildMs: number;
  /** After a full GC, with the snapshot (and nothing else of the load) alive. */
  readonly rssMb: number;
  readonly heapUsedMb: number;
  /** Before the load, for reference (modules, the ORM). */
  readonly baselineRssMb: number;
  readonly decide: LatencySummary;
  readonly delta: LatencySummary;
}

const REGIONS = ["", "", "", "us-east", "us-west", "eu-west", "eu-central", "ca-central"];
const OPERATIONS: readonly Operation[] = ["READ", "READ", "READ", "WRITE", "SEARCH", "INFERENCE"];
const MB = 1024 * 1024;

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error("usage: scale-child <postgres-url>");
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const baselineRssMb = process.memoryUsage().rss / MB;

  const started = performance.now();
  const store = createPostgresPolicyStore({ url, runMigrations: false });
  await store.open();
  const readStarted = performance.now();
  let data: { policies: readonly StoredPolicy[] } | undefined = await store.loadSnapshotData();
  const readMs = performance.now() - readStarted;
  const buildStarted = performance.now();
  let snapshot: Snapshot = buildSnapshot({
    version: 0,
    regions: DEFAULT_REGIONS,
    policies: data.policies,
    defaultRegion: undefined,
    compliance: {},
    builtAt: Date.now(),
  });
  const buildMs = performance.now() - buildStarted;
  const loadMs = performance.now() - started;
  await store.close();

  const random = seededRandom(42);
  const samplePolicies: StoredPolicy[] = [];
  for (let i = 0; i < 2_000; i++) samplePolicies.push(data.policies[Math.floor(random() * data.policies.length)]!);
  const policies = data.policies.length;
  data = undefined;
  gc();
  gc();
  const memory = process.memoryUsage();

  // decide() over requests for known tenants: half tenant-level, 40% learners with a policy, 10% without one.
  const tenants = snapshot.tenantIds.length;
  const requests: DecisionRequest[] = [];
  for (let i = 0; i < 65_536; i++) {
    const t = Math.floor(random() * tenants);
    const who = random();
    requests.push({
      tenantId: `tenant-${t}`,
      learnerId: who < 0.5 ? "" : who < 0.9 ? `learner-${Math.floor(random() * 3)}` : "learner-without-policy",
      operation: OPERATIONS[Math.floor(random() * OPERATIONS.length)]!,
      requestedRegion: REGIONS[Math.floor(random() * REGIONS.length)]!,
      dataClassification: undefined,
    });
  }
  const now = Date.now();
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += decide(snapshot, requests[i & 65_535]!, now).allowed ? 1 : 0; // warm-up
  const samples = new Float64Array(200_000);
  for (let i = 0; i < samples.length; i++) {
    const request = requests[(i * 7) & 65_535]!;
    const t0 = process.hrtime.bigint();
    sink += decide(snapshot, request, now).allowed ? 1 : 0;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }

  // One updated policy per delta, as a replica applies a write it hears of.
  const deltas = new Float64Array(samplePolicies.length);
  for (const [i, policy] of samplePolicies.entries()) {
    const changed: StoredPolicy = { ...policy, version: policy.version + 1 + i, emergencyContact: `delta-${i}@example.edu` };
    const t0 = process.hrtime.bigint();
    snapshot = applySnapshotChanges(snapshot, {
      version: snapshot.version + 1,
      builtAt: now,
      policies: [changed],
      deletedPolicyIds: [],
      regionIds: [],
      regionStatuses: [],
    });
    deltas[i] = Number(process.hrtime.bigint() - t0);
  }

  const result: ScaleChildResult = {
    policies,
    tenants,
    loadMs,
    readMs,
    buildMs,
    rssMb: memory.rss / MB,
    heapUsedMb: memory.heapUsed / MB,
    baselineRssMb,
    decide: summarize(samples),
    delta: summarize(deltas),
  };
  if (sink < 0) console.error(sink);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
