import { fileURLToPath } from "node:url";
import { Migrator } from "@mikro-orm/migrations";
import { messageOf } from "../mikro-orm/store-errors.js";
import { openPostgresOrm } from "./open-postgres-orm.js";
import { applyPostgresMigrations } from "./postgres-migrations.js";
import { parsePostgresUrl } from "./postgres-url.js";

// For developers, after changing an entity: generates the next migration from the difference between the entities
// and a scratch database migrated to the latest committed migration.
// Usage: node --import tsx src/store/postgres/create-migration-cli.ts <scratch-postgres-url> [name]
// Then review the file (collations, indexes, data) and append its class to postgres-migrations-list.ts.
const [url, name] = process.argv.slice(2);
if (!url) {
  console.error("usage: create-migration-cli <scratch-postgres-url> [name]");
  process.exit(2);
}
try {
  const orm = await openPostgresOrm(parsePostgresUrl(url), {});
  try {
    await applyPostgresMigrations(orm);
    const folder = fileURLToPath(new URL("./migrations", import.meta.url));
    const result = await new Migrator(orm.em).createMigration(folder, false, false, name);
    console.log(result.fileName ? `wrote ${folder}/${result.fileName}` : "entities and migrations agree: nothing to do");
  } finally {
    await orm.close(true);
  }
} catch (err) {
  console.error(`creating a migration failed: ${messageOf(err)}`);
  process.exit(1);
}
