import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/core";
import { BetterSqliteDriver, UniqueConstraintViolationException, type EntityManager } from "@mikro-orm/better-sqlite";
import { UnavailableError } from "../../domain/errors.js";
import { policyStoreEntities } from "../entities/policy-store-entities.js";
import { STORE_STATE_ID, StoreStateSchema } from "../entities/store-state.js";
import { initMikroOrm } from "../mikro-orm/init-mikro-orm.js";
import { createMikroOrmPolicyStore } from "../mikro-orm/mikro-orm-policy-store.js";
import { messageOf } from "../mikro-orm/store-errors.js";
import type { AuditStore } from "../audit-store.js";
import type { PolicyStore } from "../policy-store.js";
import { prepareSqliteAudit } from "./sqlite-audit-schema.js";
import { isSqliteBusy, toSqliteStoreError } from "./sqlite-store-error.js";

export interface SqlitePolicyStoreOptions {
  /** Directory of the database file; created by `open()` when missing. */
  readonly dataDir: string;
  /** @default "residency.sqlite" */
  readonly fileName?: string;
  /** Log every SQL statement through MikroORM's logger. @default false */
  readonly debug?: boolean;
}

/**
 * SQLite's busy handler sleeps synchronously, blocking the event loop (and, for two connections in one process,
 * the lock holder itself). So the driver waits only briefly and the store retries busy transactions asynchronously.
 */
const BUSY_TIMEOUT_MS = 50;

/** The database file a store with these options keeps its data in. */
export function sqliteFilePath(options: Pick<SqlitePolicyStoreOptions, "dataDir" | "fileName">): string {
  return join(options.dataDir, options.fileName ?? "residency.sqlite");
}

/** The embedded PolicyStore: one SQLite file, schema kept up to date by MikroORM's schema generator. */
export function createSqlitePolicyStore(options: SqlitePolicyStoreOptions): PolicyStore & AuditStore {
  const path = sqliteFilePath(options);
  return createMikroOrmPolicyStore({
    location: path,
    dialect: "sqlite",
    toStoreError: (err) => toSqliteStoreError(err, path),
    isTransient: isSqliteBusy,
    // SQLite transactions are serializable; in WAL mode a read transaction keeps its snapshot to the end.
    snapshotRead: {},
    async connect() {
      try {
        await mkdir(options.dataDir, { recursive: true });
      } catch (err) {
        const message = `cannot create data directory ${options.dataDir}: ${messageOf(err)}`;
        throw new UnavailableError(message, { cause: err });
      }
      let orm: MikroORM<BetterSqliteDriver> | undefined;
      try {
        orm = await initMikroOrm({
          driver: BetterSqliteDriver,
          dbName: path,
          entities: policyStoreEntities,
          debug: options.debug ?? false,
          // Looked up per call (MikroORM's default binds console.log at import), so redirections and spies see it.
          logger: (message) => console.log(message),
          // No metadata cache files (a temp/ folder in the working directory) and no folder-based discovery.
          metadataCache: { enabled: false },
          discovery: { disableDynamicFileAccess: true },
          pool: { min: 1, max: 1, afterCreate: configureConnection },
        });
        // Never drop columns, nor tables this ORM does not know (other modules may share the file).
        await orm.schema.updateSchema({ safe: true, dropTables: false });
        await seedStoreState(orm.em.fork());
        await prepareSqliteAudit(orm.em.fork());
        return orm;
      } catch (err) {
        await orm?.close(true).catch(() => undefined);
        throw new UnavailableError(`cannot open policy store ${path}: ${messageOf(err)}`, { cause: err });
      }
    },
  });
}

async function seedStoreState(em: EntityManager): Promise<void> {
  if (await em.findOne(StoreStateSchema, { id: STORE_STATE_ID })) return;
  try {
    await em.insert(StoreStateSchema, { id: STORE_STATE_ID, changeVersion: 0 });
  } catch (err) {
    // Another process opening the same file seeded it first.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
}

/** Per connection: WAL lets readers run beside the writer; the short busy timeout absorbs brief lock holds. */
function configureConnection(conn: { pragma(source: string): unknown }, done: (err: unknown, conn: unknown) => void) {
  try {
    conn.pragma("journal_mode = WAL");
    conn.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    done(null, conn);
  } catch (err) {
    done(err, conn);
  }
}
