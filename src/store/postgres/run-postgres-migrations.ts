import { UnavailableError } from "../../domain/errors.js";
import { messageOf } from "../mikro-orm/store-errors.js";
import { openPostgresOrm, type PostgresConnectionOptions } from "./open-postgres-orm.js";
import { applyPostgresMigrations } from "./postgres-migrations.js";
import { toPostgresStoreError } from "./postgres-store-error.js";
import { parsePostgresUrl } from "./postgres-url.js";

/**
 * Applies the pending migrations of the Postgres policy store (under the same advisory lock as a store opening
 * with runMigrations) and returns the names applied, oldest first. For deploy pipelines: `npm run migrate`.
 */
export async function runPostgresMigrations(url: string, options: PostgresConnectionOptions = {}): Promise<string[]> {
  const target = parsePostgresUrl(url);
  const orm = await openPostgresOrm(target, options);
  try {
    return await applyPostgresMigrations(orm);
  } catch (err) {
    const mapped = toPostgresStoreError(err, `postgres ${target.location}`);
    if (mapped instanceof UnavailableError) throw mapped;
    throw new Error(`migrating postgres ${target.location} failed: ${messageOf(err)}`, { cause: err });
  } finally {
    await orm.close(true);
  }
}
