import type { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { policyStoreEntities } from "../entities/policy-store-entities.js";
import { initMikroOrm } from "../mikro-orm/init-mikro-orm.js";
import { POSTGRES_MIGRATIONS, POSTGRES_MIGRATIONS_TABLE } from "./postgres-migrations-list.js";
import type { PostgresTarget } from "./postgres-url.js";

export interface PostgresConnectionOptions {
  /** Log every SQL statement (and the migrator's progress) through MikroORM's logger. @default false */
  readonly debug?: boolean;
  /** How long opening one connection may take before the attempt fails. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Most connections held at once. @default 10 */
  readonly maxConnections?: number;
}

export type PostgresOrm = MikroORM<PostgreSqlDriver>;

/** A MikroORM instance on the policy store's entities and migrations; it neither creates nor checks the schema. */
export async function openPostgresOrm(
  target: PostgresTarget,
  options: PostgresConnectionOptions,
): Promise<PostgresOrm> {
  const debug = options.debug ?? false;
  return initMikroOrm({
    driver: PostgreSqlDriver,
    clientUrl: target.url,
    entities: policyStoreEntities,
    debug,
    // Looked up per call (MikroORM's default binds console.log at import), so redirections and spies see it.
    logger: (message) => console.log(message),
    // No metadata cache files (a temp/ folder in the working directory) and no folder-based discovery.
    metadataCache: { enabled: false },
    discovery: { disableDynamicFileAccess: true },
    // Never CREATE DATABASE on the operator's behalf: a missing database is a configuration error.
    ensureDatabase: false,
    // At least two: migrating holds one connection for the advisory lock while the migrator uses another.
    pool: { min: 0, max: Math.max(2, options.maxConnections ?? 10) },
    driverOptions: {
      connection: {
        // node-postgres parses the URL too, so its query options (sslmode, application_name) take effect.
        connectionString: target.url,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
        keepAlive: true,
      },
      // knex warns on the console when it discards a broken connection; the store reports outages as errors.
      log: debug ? {} : { warn: ignore, error: ignore, deprecate: ignore, debug: ignore },
    },
    migrations: {
      tableName: POSTGRES_MIGRATIONS_TABLE,
      // Imported classes, not a folder scan: the same list works under tsx and compiled, and nothing is written.
      migrationsList: POSTGRES_MIGRATIONS,
      snapshot: false,
      silent: !debug,
      transactional: true,
      allOrNothing: true,
    },
  });
}

function ignore(): void {}
