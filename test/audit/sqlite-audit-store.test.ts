import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqlitePolicyStore } from "../../src/store/sqlite/sqlite-policy-store.js";
import { auditStoreContract, type AuditTestStore } from "./audit-store-contract.js";

// better-sqlite3 ships no types here; these are the calls the tests need.
type Database = { exec(sql: string): void; close(): void };
const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => Database;

auditStoreContract("SQLite", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "residency-audit-"));
  const file = join(dataDir, "residency.sqlite");
  const opened: AuditTestStore[] = [];
  const open = async () => {
    const store = createSqlitePolicyStore({ dataDir });
    await store.open();
    opened.push(store);
    return store;
  };
  // Another connection on the file, as someone with access to it would use (WAL lets it run beside the store).
  const sql = async (statement: string) => {
    const db = new Database(file);
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
  };
  return {
    store: await open(),
    reopen: open,
    sql,
    disableTriggers: () =>
      sql(
        ["audit_entry_no_update", "audit_entry_no_delete", "audit_violation_no_update", "audit_violation_no_delete"]
          .map((t) => `drop trigger "${t}";`)
          .join("\n"),
      ),
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
