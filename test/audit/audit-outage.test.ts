import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { verifyAuditChain } from "../../src/audit/audit-chain-verifier.js";
import { createPostgresPolicyStore } from "../../src/store/postgres/postgres-policy-store.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";
import { ADMIN_URL, createTestDatabase, type TestDatabase } from "../store/postgres-test-database.js";
import { startTcpProxy, type TcpProxy } from "../store/tcp-proxy.js";

let db: TestDatabase;
let proxy: TcpProxy;
const apps: TestApp[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  const admin = new URL(ADMIN_URL);
  proxy = await startTcpProxy(admin.hostname, Number(admin.port || 5432));
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.cleanup();
  await proxy.close();
  await db.drop();
});

/** The app reaches Postgres through the proxy, so the test can cut it. */
async function startApp(dataDir?: string): Promise<TestApp> {
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const app = await startTestApp({ DATABASE_URL: url.toString(), AUDIT_FLUSH_MS: "20", AUDIT_BATCH_SIZE: "16" }, dataDir);
  apps.push(app);
  return app;
}

async function readChain() {
  const store = createPostgresPolicyStore({ url: db.url, runMigrations: false });
  await store.open();
  try {
    const entries = await store.readAuditEntries(1, Number.MAX_SAFE_INTEGER, 100_000);
    return { entries, verdict: await verifyAuditChain(store, 0, 0) };
  } finally {
    await store.close();
  }
}

const spooled = async (app: TestApp) => (await readdir(join(app.dataDir, "audit-spool")).catch(() => [])).filter((f) => f.endsWith(".jsonl"));

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(50);
  }
}

describe("audit during a database outage (Postgres behind a TCP proxy)", () => {
  it("spools while the database is gone and replays in order when it is back, losing nothing", async () => {
    const t = await startApp();
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
    const decide = async (id: string) => {
      const res = await client.resolveAccess({ tenantId: "acme", operation: Operation.READ }, { headers: { "x-request-id": id } });
      expect(res.decisionId).not.toBe("");
    };
    for (let i = 0; i < 20; i++) await decide(`before-${i}`);
    await t.app.audit.flush();
    expect((await readChain()).entries).toHaveLength(20);

    await proxy.cut();
    // Decisions go on (no I/O on the decision path); their records go to the local spool.
    for (let i = 0; i < 40; i++) await decide(`during-${i}`);
    await t.app.audit.flush();
    expect(await spooled(t)).not.toHaveLength(0);
    // An admin write needs the database: it fails, and so records nothing.
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    const err = await admin.createPolicy({ policy: { tenantId: "acme", primaryRegion: "us-east" } }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.Unavailable });

    await proxy.restore();
    for (let i = 0; i < 10; i++) await decide(`after-${i}`);
    await until(async () => {
      await t.app.audit.flush();
      return (await spooled(t)).length === 0 && (await readChain()).entries.length === 70;
    });
    const { entries, verdict } = await readChain();
    expect(entries.map((e) => e.requestId)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 40 }, (_, i) => `during-${i}`),
      ...Array.from({ length: 10 }, (_, i) => `after-${i}`),
    ]);
    expect(verdict).toMatchObject({ valid: true, checked: 70 });
    const metrics = await (await fetch(`${t.metricsUrl}/metrics`)).text();
    expect(Number(/^residency_audit_write_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^residency_audit_entries_written_total 70$/m);
  });

  it("flushes to the spool on shutdown while the database is gone, and the next start replays it", async () => {
    const t = await startApp();
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
    for (let i = 0; i < 5; i++) await client.resolveAccess({ tenantId: "acme", operation: Operation.READ }, { headers: { "x-request-id": `a-${i}` } });
    await t.app.audit.flush();
    await proxy.cut();
    for (let i = 0; i < 30; i++) await client.resolveAccess({ tenantId: "acme", operation: Operation.READ }, { headers: { "x-request-id": `b-${i}` } });
    await t.stop(); // SIGTERM's path: the queue goes to the spool
    expect(await spooled(t)).not.toHaveLength(0);
    expect((await readChain()).entries).toHaveLength(5);

    await proxy.restore();
    const again = await startApp(t.dataDir);
    await until(async () => (await spooled(again)).length === 0);
    const { entries, verdict } = await readChain();
    expect(entries.map((e) => e.requestId)).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `a-${i}`),
      ...Array.from({ length: 30 }, (_, i) => `b-${i}`),
    ]);
    expect(verdict).toMatchObject({ valid: true, checked: 35 });
  });
});
