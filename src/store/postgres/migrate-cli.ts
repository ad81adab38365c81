import { messageOf } from "../mikro-orm/store-errors.js";
import { runPostgresMigrations } from "./run-postgres-migrations.js";

// Usage: node --import tsx src/store/postgres/migrate-cli.ts <postgres-url>
// The URL is the first argument (the caller reads it from its configuration); it is never printed.
const url = process.argv[2];
if (!url) {
  console.error("usage: migrate-cli <postgres-url>   (postgres://, postgresql:// or postgresql+asyncpg://)");
  process.exit(2);
}
try {
  const applied = await runPostgresMigrations(url);
  console.log(applied.length === 0 ? "no pending migrations" : `applied ${applied.length}: ${applied.join(", ")}`);
} catch (err) {
  console.error(`migration failed: ${messageOf(err)}`);
  process.exit(1);
}
