import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmergencyOverrideStatus } from "../../gen/residency/v1/override_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import {
  QUIET_TIMERS,
  createTestDatabase,
  healthOf,
  startTestApp,
  testChannel,
  until,
  type TestApp,
  type TestDatabase,
} from "../replication/replication-fixture.js";
import { REASON, clientsAs, codes } from "./override-fixture.js";

// Two replicas in this process on one fresh Postgres database and a Redis channel of their own. The staleness and
// relay timers are quiet, so only the bus can bring one replica's change to the other within the test.
let db: TestDatabase;
let env: Record<string, string>;
const apps: TestApp[] = [];
const replica = async () => {
  const t = await startTestApp(env);
  apps.push(t);
  await until(async () => (await healthOf(t)).replication.bus_connected, "the replica is subscribed");
  return t;
};

beforeEach(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, REDIS_URL: "redis://127.0.0.1:6379", REDIS_CHANNEL: testChannel(), ...QUIET_TIMERS };
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((t) => t.cleanup()));
  await db.drop();
});

/** Resolves once `t` decides with the snapshot `version` (or a later one), as the bus brings it. */
async function reaches(t: TestApp, version: number): Promise<void> {
  expect(await t.app.snapshots.waitForVersion(version, 10_000)).toBe(true);
}

describe("emergency overrides across replicas", () => {
  it("a second replica honours an override approved on the first, counts its uses, and honours its revocation", async () => {
    const a = await replica();
    const b = await replica();
    const adminA = await clientsAs(a, "policy-admin", ["admin"]);
    await adminA.admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east", prohibitedRegions: ["eu-west"] } });
    const aliceA = await clientsAs(a, "alice", ["emergency-requester"], ["acme-edu"]);
    const bobA = await clientsAs(a, "bob", ["emergency-approver"], ["acme-edu"]);
    const bobB = await clientsAs(b, "bob", ["emergency-approver"], ["acme-edu"]);
    const svcB = await clientsAs(b, "svc", ["service"], ["acme-edu"]);
    const svcA = await clientsAs(a, "svc", ["service"], ["acme-edu"]);
    const toEuWest = (svc: typeof svcA) =>
      svc.residency.resolveAccess({ tenantId: "acme-edu", learnerId: "student-123", operation: Operation.READ, requestedRegion: "eu-west" });

    const { override } = await aliceA.admin.requestEmergencyOverride({
      tenantId: "acme-edu",
      reason: REASON,
      affectedLearners: ["student-123"],
      sourceRegion: "us-east",
      targetRegion: "eu-west",
      durationHours: 4,
    });
    await reaches(b, a.app.snapshots.current().version);
    expect((await toEuWest(svcB)).allowed).toBe(false);

    await bobA.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    await reaches(b, a.app.snapshots.current().version);
    const onB = await toEuWest(svcB);
    expect(onB.allowed).toBe(true);
    expect(onB.emergencyOverrideId).toBe(override!.overrideId);
    expect(codes(onB.reasons)).toContain(ReasonCode.EMERGENCY_OVERRIDE_APPLIED);

    // Uses on both replicas add up in the store once each has flushed.
    for (let i = 0; i < 3; i++) await toEuWest(svcB);
    await toEuWest(svcA);
    await Promise.all([a.app.overrides.usage.flush(), b.app.overrides.usage.flush()]);
    const listed = (await bobA.admin.listEmergencyOverrides({ tenantId: "acme-edu" })).overrides[0];
    expect(listed?.usageCount).toBe(5n);

    await bobB.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "primary region recovered" });
    await reaches(a, b.app.snapshots.current().version);
    const afterRevoke = await toEuWest(svcA);
    expect(afterRevoke.allowed).toBe(false);
    expect(afterRevoke.emergencyOverrideId).toBe("");
    const revoked = (await bobA.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true })).overrides[0];
    expect(revoked?.status).toBe(EmergencyOverrideStatus.REVOKED);
    expect(revoked?.usageCount).toBe(5n);
  });

  it("lets exactly one of two replicas approve the same request", async () => {
    const a = await replica();
    const b = await replica();
    const alice = await clientsAs(a, "alice", ["emergency-requester"], ["acme-edu"]);
    const { override } = await alice.admin.requestEmergencyOverride({
      tenantId: "acme-edu",
      reason: REASON,
      sourceRegion: "us-east",
      targetRegion: "eu-west",
      durationHours: 1,
    });
    const [bob, dave] = await Promise.all([clientsAs(a, "bob", ["emergency-approver"]), clientsAs(b, "dave", ["emergency-approver"])]);
    const results = await Promise.allSettled([
      bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId }),
      dave.admin.approveEmergencyOverride({ overrideId: override!.overrideId }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
  });
});
