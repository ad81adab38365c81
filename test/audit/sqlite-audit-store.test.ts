import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteAuditAppender } from "../../src/store/sqlite/sqlite-audit-appender.js";
import { createSqlitePolicyStore, sqliteFilePath } from "../../src/store/sqlite/sqlite-policy-store.js";
import { auditStoreContract, type AuditTestStore } from "./audit-store-contract.js";

// better-sqlite3 ships no types here; these are the calls the tests need.
type Database = { exec(sql: string): void; close(): void };
const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => Database;

/** A store on a fresh file; with `rawAppends`, its appends go through the audit writer thread's appender instead. */
async function sqliteFixture(rawAppends: boolean) {
  const dataDir = await mkdtemp(join(tmpdir(), "residency-audit-"));
  const file = join(dataDir, "residency.sqlite");
  const opened: { close(): unknown }[] = [];
  const open = async (): Promise<AuditTestStore> => {
    const store = createSqlitePolicyStore({ dataDir });
    await store.open();
    opened.push(store);
    if (!rawAppends) return store;
    const appender = openSqliteAuditAppender(sqliteFilePath({ dataDir }));
    opened.push(appender);
    return { ...store, appendAudit: appender.appendAudit };
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
}

auditStoreContract("SQLite", () => sqliteFixture(false));
// The audit writer thread appends through better-sqlite3 directly: the same chain, the same rows.
auditStoreContract("SQLite, through the writer thread's appender", () => sqliteFixture(true));
