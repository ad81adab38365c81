import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { ADMIN_URL, adminQuery } from "../store/postgres-test-database.js";
import { startTcpProxy, type TcpProxy } from "../store/tcp-proxy.js";
import { startPrivateRedis, type PrivateRedis } from "./private-redis.js";
import {
  QUIET_TIMERS,
  clientsOf,
  createTestDatabase,
  healthOf,
  publishedAt,
  startTestApp,
  testChannel,
  until,
  type TestApp,
  type TestDatabase,
} from "./replication-fixture.js";

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected the call to fail"); }, (e: unknown) => ConnectError.from(e));

let db: TestDatabase;
const apps: TestApp[] = [];
const cleanups: (() => Promise<void>)[] = [];
const replica = async (env: Record<string, string>) => {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
};

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((t) => t.cleanup()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await db.drop();
});

describe("a Redis outage", () => {
  it("keeps decisions served and writes committed, and every replica resyncs once Redis is back", async () => {
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_CHANNEL: testChannel(), ...QUIET_TIMERS };
    const [a, b] = [await replica(env), await replica(env)];
    for (const t of [a!, b!]) await until(async () => (await healthOf(t)).replication.bus_connected, "connected to Redis");
    const { policy } = await clientsOf(a!).admin.createPolicy({ policy: { tenantId: "acme", primaryRegion: "us-east", allowedRegions: ["us-west"] } });
    expect(await b!.app.snapshots.waitForVersion(1, 10_000)).toBe(true);

    await redis.stop();
    for (const t of [a!, b!]) await until(async () => !(await healthOf(t)).replication.bus_connected, "both noticed Redis is gone");

    // Decisions go on from the last snapshot; /health stays serving.
    const during = await clientsOf(b!).residency.resolveAccess({ tenantId: "acme", operation: Operation.READ });
    expect(during.targetRegion).toBe("us-east");
    expect((await healthOf(b!)).status).toBe("serving");
    // A write commits (and its writer decides with it) while Redis is still down: the publish is left to the relay.
    await clientsOf(a!).admin.updatePolicy({ policy: { ...policy!, primaryRegion: "us-west", allowedRegions: ["us-east"] }, expectedVersion: 1n });
    expect(a!.app.snapshots.current().version).toBe(2);
    expect(await publishedAt(db, 2)).toBeNull();
    expect(b!.app.snapshots.current().version).toBe(1);

    await redis.start();
    // Replica b resyncs on reconnect (its silence timer is far away), and a's relay publishes the backlog.
    expect(await b!.app.snapshots.waitForVersion(2, 15_000)).toBe(true);
    expect(b!.app.snapshots.current().effectivePolicy("acme", "")?.primaryRegion).toBe("us-west");
    await until(async () => (await publishedAt(db, 2)) !== null, "the relay published change 2");
  });

  it("answers a write without waiting for a hung Redis to take its publish, which is left to time out and to the relay", async () => {
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const a = await startTestApp({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_CHANNEL: testChannel(), ...QUIET_TIMERS }, undefined, { logger });
    apps.push(a);
    await until(async () => (await healthOf(a)).replication.bus_connected, "connected to Redis");

    redis.pause(); // the connections stay up, so the publish is sent and gets no answer until its timeout
    const failed = "publishing a committed change failed; the outbox relay will publish it";
    await clientsOf(a).admin.createPolicy({ policy: { tenantId: "acme", primaryRegion: "us-east" } });
    expect(a.app.snapshots.current().version).toBe(1); // the writer decides with it
    expect(warnings).not.toContain(failed); // answered before the publish gave up
    await until(() => warnings.includes(failed), "the publish timed out");
    expect(await publishedAt(db, 1)).toBeNull();
  });
});

describe("a Postgres outage", () => {
  it("keeps decisions served, answers writes UNAVAILABLE, leaves nothing half-written, and recovers", async () => {
    const admin = new URL(ADMIN_URL);
    const proxy: TcpProxy = await startTcpProxy(admin.hostname, Number(admin.port || 5432));
    cleanups.push(() => proxy.close());
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const t = await replica({ DATABASE_URL: url.toString(), REDIS_URL: "redis://127.0.0.1:6379", REDIS_CHANNEL: testChannel(), ...QUIET_TIMERS });
    const { admin: adminClient, residency } = clientsOf(t);
    await adminClient.createPolicy({ policy: { tenantId: "acme", primaryRegion: "eu-west" } });

    await proxy.cut();
    const decision = await residency.resolveAccess({ tenantId: "acme", operation: Operation.READ });
    expect(decision.targetRegion).toBe("eu-west");
    const err = await failure(adminClient.createPolicy({ policy: { tenantId: "beta", primaryRegion: "us-east" } }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/policy store postgres .* (is unavailable|is not open|failed)/);
    expect(err.rawMessage).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect((await healthOf(t)).status).toBe("serving");
    expect((await fetch(`${t.baseUrl}/health/db`)).status).toBe(503);

    await proxy.restore();
    // Nothing of the refused write reached the database.
    const rows = await adminQuery<{ n: string }>("select count(*) as n from policy where tenant_id = 'beta'", [], db.name);
    expect(rows[0]?.n).toBe("0");
    const [state] = await adminQuery<{ change_version: number }>("select change_version from store_state", [], db.name);
    expect(state?.change_version).toBe(1);
    // Writes work again once the database is back (the pool reconnects).
    await until(async () => (await fetch(`${t.baseUrl}/health/db`)).status === 200, "the database answers again");
    await adminClient.createPolicy({ policy: { tenantId: "beta", primaryRegion: "us-east" } });
    expect((await residency.resolveAccess({ tenantId: "beta", operation: Operation.READ })).targetRegion).toBe("us-east");
  });
});
