// `npm run migrate`: applies the pending Postgres migrations to the database DATABASE_URL names (read through
// config.ts, like the service), under the same advisory lock replicas take when they migrate at start.
import { ConfigError, loadConfig } from "../config.js";
import { messageOf } from "../store/mikro-orm/store-errors.js";
import { runPostgresMigrations } from "../store/postgres/run-postgres-migrations.js";

try {
  const config = loadConfig();
  if (config.databaseUrl === undefined) {
    console.error("DATABASE_URL is not set: migrations are for the Postgres store (the embedded SQLite store creates its own tables)");
    process.exit(2);
  }
  const applied = await runPostgresMigrations(config.databaseUrl);
  console.log(applied.length === 0 ? "no pending migrations" : `applied ${applied.length}: ${applied.join(", ")}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `migration failed: ${messageOf(err)}`);
  process.exit(1);
}
