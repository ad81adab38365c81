import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import type { PolicyStore } from "../../src/store/policy-store.js";
import {
  createPostgresPolicyStore,
  type PostgresPolicyStoreOptions,
} from "../../src/store/postgres/postgres-policy-store.js";
import { runPostgresMigrations } from "../../src/store/postgres/run-postgres-migrations.js";
import { fields, meta } from "./contract-fixtures.js";
import { ADMIN_URL, adminQuery, createTestDatabase, type TestDatabase } from "./postgres-test-database.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe("Postgres policy store: outages", () => {
  let db: TestDatabase;
  const stores: PolicyStore[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const make = (options: Partial<PostgresPolicyStoreOptions> = {}) => {
    const store = createPostgresPolicyStore({ url: db.url, runMigrations: true, ...options });
    stores.push(store);
    return store;
  };
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await db.drop();
  });

  it("is UNAVAILABLE at once when nothing listens, naming the host but never the password", async () => {
    const store = make({ url: "postgres://someone:s3cret@127.0.0.1:1/x" });
    const err = await failure(store.open());
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err?.message).toContain("ECONNREFUSED"); // refused, not waited for
    expect(err?.message).toContain("postgres 127.0.0.1:1/x");
    expect(err?.message).not.toContain("s3cret");
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
    const migrate = await failure(runPostgresMigrations("postgres://someone:s3cret@127.0.0.1:1/x"));
    expect(migrate).toBeInstanceOf(UnavailableError);
    expect(migrate?.message).not.toContain("s3cret");
  });

  it("gives up connecting after the connect timeout when the server never answers", async () => {
    const silent: Socket[] = [];
    const server: Server = createServer((socket) => silent.push(socket)); // accepts, then says nothing
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      for (const s of silent) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const store = make({ url: `postgres://someone@127.0.0.1:${port}/x`, connectTimeoutMs: 300 });
    const err = await failure(store.open());
    expect(err).toBeInstanceOf(UnavailableError);
    // A connect timeout ended the wait (pg itself would wait for ever).
    expect(err?.message).toContain("timeout expired");
    expect(err?.message).toContain(`127.0.0.1:${port}/x`);
  });

  it("is UNAVAILABLE for a database that does not exist", async () => {
    const err = await failure(make({ url: db.url.replace(db.name, `${db.name}_missing`) }).open());
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err?.message).toContain(`${db.name}_missing`);
  });

  it("is UNAVAILABLE while the server is gone, and serves again once it is back", async () => {
    const admin = new URL(ADMIN_URL);
    const proxy: TcpProxy = await startTcpProxy(admin.hostname, Number(admin.port || 5432));
    cleanups.push(() => proxy.close());
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const store = make({ url: url.toString() });
    await store.open();
    await store.createPolicy(fields("acme"), meta(1));
    const before = await store.loadSnapshotData();

    await proxy.cut();
    const ping = await failure(store.ping());
    expect(ping).toBeInstanceOf(UnavailableError);
    expect(ping?.message).toContain(`127.0.0.1:${proxy.port}/${db.name}`);
    await expect(store.createPolicy(fields("globex"), meta(2))).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.loadSnapshotData()).rejects.toBeInstanceOf(UnavailableError);

    await proxy.restore();
    await store.ping();
    expect(await store.loadSnapshotData()).toEqual(before);
    expect((await store.createPolicy(fields("globex"), meta(3))).changeVersion).toBe(2);
  });

  it("leaves nothing half-written when the connection dies inside a write", async () => {
    const store = make();
    await store.open();
    await store.createPolicy(fields("acme"), meta(1));
    const before = await store.loadSnapshotData();
    const outbox = await store.unpublishedChanges(10);

    // Another session holds change_log version 2 uncommitted, so the next write blocks at its last statement,
    // after it has advanced the counter and inserted the policy and its history row.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query("begin");
    await blocker.query("insert into change_log (version, kind, ids, committed_at) values (2, 'policy', '[]', 0)");
    const write = failure(store.createPolicy(fields("globex"), meta(2)));
    const waiting = await waitForLockWaiter(db.name);
    await adminQuery("select pg_terminate_backend($1)", [waiting]);
    const err = await write;
    await blocker.query("rollback");

    expect(err).toBeInstanceOf(UnavailableError);
    expect(err?.message).toContain(`127.0.0.1:5432/${db.name}`);
    expect(await store.loadSnapshotData()).toEqual(before);
    expect(await store.unpublishedChanges(10)).toEqual(outbox);
    expect(await adminQuery("select count(*)::int as n from policy_version", [], db.name)).toEqual([{ n: 1 }]);
    expect((await store.createPolicy(fields("globex"), meta(3))).changeVersion).toBe(2);
  });
});

/** The pid of the backend of `database` waiting for a lock. */
async function waitForLockWaiter(database: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const rows = await adminQuery<{ pid: number }>(
      "select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'",
      [database],
    );
    if (rows[0]) return rows[0].pid;
    await sleep(25);
  }
  throw new Error("no session started waiting for the lock");
}
