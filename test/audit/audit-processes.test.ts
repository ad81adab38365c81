import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { verifyAuditChain } from "../../src/audit/audit-chain-verifier.js";
import { createPostgresPolicyStore } from "../../src/store/postgres/postgres-policy-store.js";
import { bearer, TEST_SECRET_KEY, tokenFor } from "../support/auth.js";
import { createTestDatabase, type TestDatabase } from "../store/postgres-test-database.js";
import { startServiceProcess, type ServiceProcess } from "./service-process.js";

let db: TestDatabase;
const dirs: string[] = [];
const processes: ServiceProcess[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const p of processes.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  await db.drop();
});

async function start(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dir = await mkdtemp(join(tmpdir(), "residency-audit-proc-"));
  dirs.push(dir);
  const service = await startServiceProcess({ DATABASE_URL: db.url, DATA_DIR: dir, SECRET_KEY: TEST_SECRET_KEY, ...env });
  processes.push(service);
  return service;
}

/** Reads the chain as an auditor would, with a store of its own. */
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

// Each test starts service processes (tsx compiles the service at start): slow on a busy machine.
describe("audit across processes (Postgres)", { timeout: 180_000 }, () => {
  it("flushes the queued decisions to the database on SIGTERM", async () => {
    // Nothing is written before shutdown: the batch never fills and the timer never fires.
    const service = await start({ AUDIT_FLUSH_MS: "60000", AUDIT_BATCH_SIZE: "10000" });
    const token = await tokenFor({ sub: "sigterm-test", roles: ["service"], tenants: ["*"] });
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${service.grpcPort}`, interceptors: [bearer(token)] }));
    for (let i = 0; i < 25; i++) {
      await client.resolveAccess({ tenantId: "t", operation: Operation.READ, resourceId: `r-${i}` }, { headers: { "x-request-id": `term-${i}` } });
    }
    expect((await readChain()).entries).toHaveLength(0);
    expect(await service.terminate()).toBe(0);
    const { entries, verdict } = await readChain();
    expect(entries.map((e) => e.requestId)).toEqual(Array.from({ length: 25 }, (_, i) => `term-${i}`));
    expect(entries.every((e) => e.actor === "sigterm-test" && e.kind === "DECISION")).toBe(true);
    expect(verdict).toMatchObject({ valid: true, checked: 25 });
  });

  it("keeps one verifiable chain when three replicas append under load", async () => {
    const replicas = await Promise.all([0, 1, 2].map(() => start({ AUDIT_BATCH_SIZE: "64", AUDIT_FLUSH_MS: "5" })));
    const token = await tokenFor({ sub: "load", roles: ["admin"], tenants: ["*"] });
    const BATCHES = 10;
    const ITEMS = 100;
    await Promise.all(
      replicas.flatMap((replica, r) => {
        const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${replica.grpcPort}`, interceptors: [bearer(token)] });
        const residency = createClient(ResidencyService, transport);
        const admin = createClient(AdminService, transport);
        return [
          ...Array.from({ length: BATCHES }, (_, b) =>
            residency.batchResolveAccess({
              requests: Array.from({ length: ITEMS }, (_, i) => ({ tenantId: `tenant-${i % 7}`, operation: Operation.READ, resourceId: `r${r}-b${b}-i${i}` })),
            }),
          ),
          admin.createPolicy({ policy: { tenantId: `tenant-${r}`, primaryRegion: "us-east" } }),
        ];
      }),
    );
    expect(await Promise.all(replicas.map((r) => r.terminate()))).toEqual([0, 0, 0]);
    const { entries, verdict } = await readChain();
    expect(entries).toHaveLength(3 * (BATCHES * ITEMS + 1));
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(new Set(entries.map((e) => e.resourceId)).size).toBe(3 * BATCHES * ITEMS + 1); // admin entries share ""
    expect(entries.filter((e) => e.kind === "POLICY_CREATED")).toHaveLength(3);
    expect(verdict).toMatchObject({ valid: true, checked: entries.length, headSeq: entries.length });
  });
});
