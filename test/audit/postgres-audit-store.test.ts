import { describe, expect, it } from "vitest";
import { createPostgresPolicyStore } from "../../src/store/postgres/postgres-policy-store.js";
import { adminQuery, createTestDatabase } from "../store/postgres-test-database.js";
import { auditStoreContract, type AuditTestStore } from "./audit-store-contract.js";

auditStoreContract("Postgres", async () => {
  const db = await createTestDatabase();
  const opened: AuditTestStore[] = [];
  const open = async () => {
    const store = createPostgresPolicyStore({ url: db.url, runMigrations: true });
    await store.open();
    opened.push(store);
    return store;
  };
  const sql = async (statement: string) => {
    await adminQuery(statement, [], db.name);
  };
  return {
    store: await open(),
    reopen: open,
    sql,
    // As a superuser: the triggers stay defined, switched off until someone enables them again.
    disableTriggers: async () => {
      await sql('alter table "audit_entry" disable trigger "audit_entry_append_only"');
      await sql('alter table "audit_violation" disable trigger "audit_violation_append_only"');
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await db.drop();
    },
  };
});

describe("Postgres audit tables", () => {
  it("refuse TRUNCATE too", async () => {
    const db = await createTestDatabase();
    const store = createPostgresPolicyStore({ url: db.url, runMigrations: true });
    try {
      await store.open();
      for (const table of ["audit_entry", "audit_violation", "audit_chain_head"]) {
        await expect(adminQuery(`truncate "${table}"`, [], db.name)).rejects.toThrow(/append-only|refused/);
      }
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
