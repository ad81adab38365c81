import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import {
  QUIET_TIMERS,
  clientsOf,
  commitWithoutPublishing,
  createTestDatabase,
  fields,
  healthOf,
  publishedAt,
  startTestApp,
  testChannel,
  until,
  type TestApp,
  type TestDatabase,
} from "./replication-fixture.js";

// Replicas in this process, on a fresh Postgres database and a Redis channel of their own.
let db: TestDatabase;
let env: Record<string, string>;
const apps: TestApp[] = [];
const replica = async () => {
  const t = await startTestApp(env);
  apps.push(t);
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

describe("outbox", () => {
  it("marks a change published right after its commit", async () => {
    const a = await replica();
    await clientsOf(a).admin.createPolicy({ policy: { tenantId: "acme", primaryRegion: "us-east" } });
    await until(async () => (await publishedAt(db, 1)) !== null, "change 1 is marked published");
  });

  it("loses nothing when the writer dies between commit and publish: a relay starting elsewhere publishes it", async () => {
    const a = await replica();
    await until(async () => (await healthOf(a)).replication.bus_connected, "replica a is subscribed");
    const { version } = await commitWithoutPublishing(db, fields("orphan", "", { primaryRegion: "eu-west" }));
    expect(await publishedAt(db, version)).toBeNull();

    // A new replica loads the change with its first snapshot, and its relay publishes the backlog at start.
    const b = await replica();
    expect(b.app.snapshots.current().version).toBe(version);
    expect(await a.app.snapshots.waitForVersion(version, 10_000)).toBe(true);
    const decision = await clientsOf(a).residency.resolveAccess({ tenantId: "orphan", operation: Operation.READ });
    expect(decision.targetRegion).toBe("eu-west");
    await until(async () => (await publishedAt(db, version)) !== null, "the relay marked it published");
  });
});

describe("version gaps", () => {
  it("treats an event that skips a version as a gap and catches up every change since", async () => {
    const a = await replica();
    const b = await replica();
    // Both connected first: a relay pass on (re)connect would publish the change this test drops.
    for (const t of [a, b]) await until(async () => (await healthOf(t)).replication.bus_connected, "both replicas are connected");
    // Change 1's event is dropped (it is never published); change 2 is announced as usual.
    const dropped = await commitWithoutPublishing(db, fields("dropped", "", { primaryRegion: "us-west" }));
    await clientsOf(a).admin.createPolicy({ policy: { tenantId: "announced", primaryRegion: "ca-central" } });
    const announced = dropped.version + 1;

    expect(await b.app.snapshots.waitForVersion(announced, 10_000)).toBe(true);
    expect(b.app.snapshots.current().effectivePolicy("dropped", "")?.primaryRegion).toBe("us-west");
    expect(b.app.snapshots.current().effectivePolicy("announced", "")?.primaryRegion).toBe("ca-central");
    expect((await healthOf(b)).replication.version_gaps).toBe(1);
    // Both changes were applied as a delta, each with its commit-to-applied lag.
    const metrics = await (await fetch(`${b.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^residency_propagation_lag_seconds_count 2$/m);
  });
});
