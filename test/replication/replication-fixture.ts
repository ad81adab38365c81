import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import type { PolicyFields, StoredPolicy } from "../../src/domain/policy.js";
import { createPostgresPolicyStore } from "../../src/store/postgres/postgres-policy-store.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";
import { fields } from "../store/contract-fixtures.js";
import { adminQuery, createTestDatabase, type TestDatabase } from "../store/postgres-test-database.js";

/** A Redis channel of this test run, so that parallel test files never hear each other. */
export const testChannel = () => `residency-test-${randomBytes(6).toString("hex")}`;

/** Replication settings that leave catching up to the bus alone: no silence timer, no relay timer within a test. */
export const QUIET_TIMERS = { SNAPSHOT_MAX_STALENESS_MS: "600000", OUTBOX_RELAY_INTERVAL_MS: "600000" };

export function clientsOf(t: TestApp) {
  const transport = createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] });
  return { admin: createClient(AdminService, transport), residency: createClient(ResidencyService, transport) };
}

/** What /health says about the replica. */
export async function healthOf(t: TestApp): Promise<{
  status: string;
  snapshot: { version: number; synced_age_seconds: number | null };
  replication: { bus_connected: boolean; version_gaps: number; stale: boolean };
}> {
  return (await fetch(`${t.baseUrl}/health`)).json() as never;
}

/** Polls until `check` holds (for states nothing can be awaited for, such as a client noticing Redis went away). */
export async function until(check: () => Promise<boolean> | boolean, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A write that commits and is never published: what a writer leaves behind when it crashes between its commit and
 * its publish. Straight through a store of its own, closed afterwards.
 */
export async function commitWithoutPublishing(db: TestDatabase, policy: PolicyFields): Promise<{ stored: StoredPolicy; version: number }> {
  const store = createPostgresPolicyStore({ url: db.url, runMigrations: true });
  await store.open();
  try {
    const { value, changeVersion } = await store.createPolicy(policy, { actor: "crashed-writer", now: Date.now() });
    return { stored: value, version: changeVersion };
  } finally {
    await store.close();
  }
}

/** published_at of a change-log row (null while unpublished). */
export async function publishedAt(db: TestDatabase, version: number): Promise<number | null> {
  const [row] = await adminQuery<{ published_at: string | null }>("select published_at from change_log where version = $1", [version], db.name);
  return row?.published_at === null || row === undefined ? null : Number(row.published_at);
}

export { createTestDatabase, fields, startTestApp, type TestApp, type TestDatabase };
