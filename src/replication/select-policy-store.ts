import type { Config } from "../config.js";
import type { AuditStore } from "../store/audit-store.js";
import type { PolicyStore } from "../store/policy-store.js";
import { createPostgresPolicyStore } from "../store/postgres/postgres-policy-store.js";
import { createSqlitePolicyStore } from "../store/sqlite/sqlite-policy-store.js";

export type StoreKind = "postgresql" | "sqlite";

/** DATABASE_URL selects Postgres (migrated at open unless RUN_MIGRATIONS=false); otherwise the embedded SQLite file. */
export function selectPolicyStore(config: Pick<Config, "databaseUrl" | "runMigrations" | "dataDir">): { store: PolicyStore & AuditStore; kind: StoreKind } {
  if (config.databaseUrl !== undefined) {
    return { store: createPostgresPolicyStore({ url: config.databaseUrl, runMigrations: config.runMigrations }), kind: "postgresql" };
  }
  return { store: createSqlitePolicyStore({ dataDir: config.dataDir }), kind: "sqlite" };
}
