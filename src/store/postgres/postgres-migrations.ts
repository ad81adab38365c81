import { Migrator } from "@mikro-orm/migrations";
import type { PostgresOrm } from "./open-postgres-orm.js";
import { POSTGRES_MIGRATIONS, POSTGRES_MIGRATIONS_TABLE } from "./postgres-migrations-list.js";

/** The advisory lock every replica takes before migrating; any fixed bigint, the same in every version. */
const MIGRATION_LOCK_KEY = 4_242_917_030_551_001;
/** How long a replica waits for another one's migrations before giving up. */
const MIGRATION_LOCK_TIMEOUT = "120s";

/**
 * Applies the pending migrations, all in one transaction, while holding an advisory lock, so replicas starting
 * together migrate one after the other (the later ones find nothing pending). The lock is transaction-scoped
 * (pg_advisory_xact_lock) on a connection of its own that stays open, idle in its transaction, until the migrator
 * is done: Postgres releases it at commit, or when that connection dies, so a crashed migrator never leaves it
 * behind. Returns the names applied.
 */
export async function applyPostgresMigrations(orm: PostgresOrm): Promise<string[]> {
  const connection = orm.em.getConnection();
  return connection.transactional(async (lockTx) => {
    await connection.execute(`set local lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`, [], "run", lockTx);
    await connection.execute("select pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY], "all", lockTx);
    const applied = await new Migrator(orm.em).up();
    return applied.map((m) => m.name);
  });
}

/** Names of the migrations this version knows that the database has not applied; reads only. */
export async function pendingPostgresMigrations(orm: PostgresOrm): Promise<string[]> {
  const connection = orm.em.getConnection();
  const table = `"${orm.config.get("schema") ?? "public"}"."${POSTGRES_MIGRATIONS_TABLE}"`;
  const [probe] = await connection.execute<{ present: boolean }[]>("select to_regclass(?) is not null as present", [
    table,
  ]);
  const rows = probe?.present ? await connection.execute<{ name: string }[]>(`select name from ${table}`) : [];
  const applied = new Set(rows.map((r) => r.name));
  // Migrations the database has and this version does not are a newer release's: compatible by design.
  return POSTGRES_MIGRATIONS.map((m) => m.name).filter((name) => !applied.has(name));
}
