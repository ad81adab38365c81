import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { bearer, tokenFor } from "../support/auth.js";
import { createTestDatabase, type TestDatabase } from "../store/postgres-test-database.js";
import { startReplica, type ReplicaProcess } from "./replica-process.js";

// Three replicas in processes of their own share a fresh Postgres database and a Redis channel of this run.
let db: TestDatabase;
let replicas: ReplicaProcess[] = [];
let token: string;
const clients = (r: ReplicaProcess) => {
  const transport = createGrpcTransport({ baseUrl: r.baseUrl, interceptors: [bearer(token)] });
  return { admin: createClient(AdminService, transport), residency: createClient(ResidencyService, transport) };
};
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected the call to fail"); }, (e: unknown) => ConnectError.from(e));

/** The version a replica decides with right now. */
async function versionOf(r: ReplicaProcess): Promise<bigint> {
  return (await clients(r).residency.listRegions({})).snapshotVersion;
}

/** Polls /health (which never triggers a catch-up) until the replica reports `version`: only the bus can bring it fast. */
async function healthReaches(r: ReplicaProcess, version: bigint, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const health = (await (await fetch(`${r.baseUrl}/health`)).json()) as { snapshot: { version: number } };
    if (BigInt(health.snapshot.version) >= version) return;
    if (Date.now() > deadline) throw new Error(`${r.name} is still at ${health.snapshot.version}, not ${version}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every replica answers for `tenantId` at (at least) `version`: min_snapshot_version makes a lagging one wait. */
async function everywhere(version: bigint, tenantId: string) {
  return Promise.all(
    replicas.map((r) => clients(r).residency.resolveAccess({ tenantId, operation: Operation.READ, minSnapshotVersion: version })),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  token = await tokenFor({ sub: "replica-admin", roles: ["admin"], tenants: ["*"] });
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_CHANNEL: `residency-test-${randomBytes(6).toString("hex")}`,
    // Generous for a loaded 2-core machine: a lagging replica answers as soon as it has the version anyway.
    MIN_SNAPSHOT_WAIT_MS: "3000",
  };
  // Started together: they migrate the empty database one after the other under the advisory lock.
  const started = await Promise.allSettled(["r0", "r1", "r2"].map((name) => startReplica(name, env)));
  replicas = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await db?.drop();
});

describe("three replicas in separate processes", () => {
  it("converge after writes to any of them", async () => {
    for (const [i, writer] of replicas.entries()) {
      const tenantId = `tenant-${i}`;
      await clients(writer).admin.createPolicy({ policy: { tenantId, primaryRegion: "eu-west", allowedRegions: ["eu-central"] } });
      // The writer decides with its write when the call returns; the others catch up through Redis.
      const version = await versionOf(writer);
      // Far below the 30 s staleness bound: the change came over Redis.
      await Promise.all(replicas.map((r) => healthReaches(r, version, 5_000)));
      const answers = await everywhere(version, tenantId);
      for (const answer of answers) {
        expect(answer.allowed).toBe(true);
        expect(answer.targetRegion).toBe("eu-west");
        expect(answer.snapshotVersion).toBeGreaterThanOrEqual(version);
      }
    }

    const { policies } = await clients(replicas[0]!).admin.listPolicies({ tenantId: "tenant-0" });
    const [policy] = policies;
    await clients(replicas[2]!).admin.updatePolicy({ policy: { ...policy!, primaryRegion: "eu-central", allowedRegions: [] }, expectedVersion: 1n });
    for (const answer of await everywhere(await versionOf(replicas[2]!), "tenant-0")) expect(answer.targetRegion).toBe("eu-central");

    await clients(replicas[1]!).admin.deletePolicy({ policyId: policy!.policyId, expectedVersion: 2n });
    for (const answer of await everywhere(await versionOf(replicas[1]!), "tenant-0")) {
      expect(answer.allowed).toBe(false);
      expect(answer.reasons[0]?.code).toBeDefined();
    }
    // Every replica logged only delta loads after its first snapshot.
    for (const r of replicas) {
      const loads = r.logs.filter((l) => l.message === "snapshot loaded").length;
      expect(loads).toBeGreaterThan(1);
      expect(r.logs.some((l) => l.message === "the change log no longer reaches back to this snapshot; reloading everything")).toBe(false);
    }
  });

  it("lets exactly one of two concurrent updates of a policy win; the other is ABORTED with the current version", async () => {
    const [a, b, c] = replicas.map(clients);
    const { policy } = await a!.admin.createPolicy({ policy: { tenantId: "contended", primaryRegion: "us-east" } });
    const update = (client: ReturnType<typeof clients>, region: string) =>
      client.admin.updatePolicy({ policy: { ...policy!, primaryRegion: region }, expectedVersion: 1n });
    const results = await Promise.allSettled([update(b!, "us-west"), update(c!, "ca-central")]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason)] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.code).toBe(Code.Aborted);
    expect(lost[0]!.findDetails(ErrorInfoSchema)[0]?.metadata.current_version).toBe("2");
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof update>>>).value.policy!;
    expect(winner.version).toBe(2n);

    // Version 1 stays readable from any replica, and every replica decides with the winner.
    const old = await c!.admin.getPolicy({ policyId: policy!.policyId, version: 1n });
    expect(old.policy?.primaryRegion).toBe("us-east");
    const version = await versionOf(replicas[results[0]!.status === "fulfilled" ? 1 : 2]!);
    for (const answer of await everywhere(version, "contended")) expect(answer.targetRegion).toBe(winner.primaryRegion);
    // A stale expected version stays refused everywhere.
    expect((await failure(a!.admin.deletePolicy({ policyId: policy!.policyId, expectedVersion: 1n }))).code).toBe(Code.Aborted);
  });
});
