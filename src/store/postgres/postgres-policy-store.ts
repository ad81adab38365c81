import { IsolationLevel } from "@mikro-orm/core";
import { UnavailableError } from "../../domain/errors.js";
import { createMikroOrmPolicyStore } from "../mikro-orm/mikro-orm-policy-store.js";
import { messageOf } from "../mikro-orm/store-errors.js";
import type { AuditStore } from "../audit-store.js";
import type { PolicyStore } from "../policy-store.js";
import { openPostgresOrm, type PostgresConnectionOptions, type PostgresOrm } from "./open-postgres-orm.js";
import { applyPostgresMigrations, pendingPostgresMigrations } from "./postgres-migrations.js";
import { isPostgresTransient, toPostgresStoreError } from "./postgres-store-error.js";
import { parsePostgresUrl } from "./postgres-url.js";
import { readPostgresChangesSince } from "./postgres-changes-since.js";
import { readPostgresSnapshotData } from "./postgres-snapshot-read.js";
import { createPostgresPolicyWrites } from "./postgres-policy-writes.js";
import { runStatement, type RawConnection, type RawConnectionPool } from "./raw-connection.js";
import { retryTransient } from "../retry-transient.js";

/** knex's connection pool (its `client`, untyped in knex's typings): the raw paths borrow the ORM's connections. */
interface KnexClient {
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(connection: RawConnection): Promise<void>;
}

function knexClient(orm: PostgresOrm): KnexClient {
  return orm.em.getConnection().getKnex().client as KnexClient;
}

/** Sets published_at on the rows that have none yet, so marking twice keeps the first time. */
const MARK_PUBLISHED =
  'update "change_log" set "published_at" = $1 where "version" = any($2::int[]) and "published_at" is null';

export interface PostgresPolicyStoreOptions extends PostgresConnectionOptions {
  /** postgres://, postgresql:// or the seed's postgresql+asyncpg:// spelling; user and password may be in it. */
  readonly url: string;
  /**
   * true: `open()` applies pending migrations (under an advisory lock, so replicas may start together).
   * false: `open()` fails with UnavailableError while any migration is pending (`npm run migrate` applies them).
   */
  readonly runMigrations: boolean;
}

/**
 * The production PolicyStore on PostgreSQL. The schema comes from the migrations in ./migrations. Snapshot and
 * change reads run in REPEATABLE READ transactions; writes in READ COMMITTED, serialised by the change counter's
 * row lock. Throws at once (an Error, not UnavailableError) when the URL is malformed.
 *
 * What is on the path of a change to every replica skips the ORM for node-postgres connections of its pool: policy
 * writes in two round trips (postgres-policy-writes.ts), the change read and the outbox marks as one prepared
 * statement each.
 */
export function createPostgresPolicyStore(options: PostgresPolicyStoreOptions): PolicyStore & AuditStore {
  const target = parsePostgresUrl(options.url);
  const location = `postgres ${target.location}`;
  const toStoreError = (err: unknown) => toPostgresStoreError(err, location);
  let open: PostgresOrm | undefined; // for the one-statement change read below
  const store = createMikroOrmPolicyStore({
    location,
    dialect: "postgresql",
    toStoreError,
    isTransient: isPostgresTransient,
    snapshotRead: { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    async connect() {
      let orm: PostgresOrm | undefined;
      try {
        orm = await openPostgresOrm(target, options);
        await orm.em.getConnection().execute("select 1"); // MikroORM's connect() does not fail when unreachable
        if (options.runMigrations) {
          await applyPostgresMigrations(orm);
        } else {
          const pending = await pendingPostgresMigrations(orm);
          if (pending.length > 0) {
            throw new UnavailableError(
              `policy store ${location} is not migrated: ${pending.length} pending migration(s) ` +
                `(${pending.join(", ")}); run \`npm run migrate\` or open with runMigrations`,
            );
          }
        }
        open = orm;
        return orm;
      } catch (err) {
        await orm?.close(true).catch(() => undefined);
        const mapped = toStoreError(err);
        if (mapped instanceof UnavailableError) throw mapped;
        const message = `cannot open policy store ${location}: ${messageOf(err)}`;
        throw new UnavailableError(message, { cause: err });
      }
    },
  });
  const pool: RawConnectionPool = {
    async acquire() {
      if (open === undefined) throw new UnavailableError(`policy store ${location} is not open`);
      const client = knexClient(open);
      const connection = await client.acquireConnection();
      return { connection, release: () => void client.releaseConnection(connection) };
    },
  };
  const errors = { isTransient: isPostgresTransient, toStoreError };
  return {
    ...store,
    ...createPostgresPolicyWrites(pool, errors),
    async close() {
      open = undefined;
      await store.close();
    },
    // Plain SQL instead of entities: the cold start of a replica at scale.
    async loadSnapshotData() {
      if (open === undefined) throw new UnavailableError(`policy store ${location} is not open`);
      try {
        return await readPostgresSnapshotData(open.em.getConnection().getKnex());
      } catch (err) {
        throw toStoreError(err);
      }
    },
    // One round trip instead of a transaction of five: replicas run it for every change they hear of.
    async loadChangesSince(since) {
      if (open === undefined) throw new UnavailableError(`policy store ${location} is not open`);
      try {
        return await readPostgresChangesSince(pool, since);
      } catch (err) {
        throw toStoreError(err);
      }
    },
    // One statement, so no transaction around it: one round trip instead of three.
    async markPublished(versions) {
      if (versions.length === 0) return;
      const statement = { name: "residency_mark_published_v1", text: MARK_PUBLISHED, values: [Date.now(), [...new Set(versions)]] };
      await retryTransient(() => runStatement(pool, statement), errors);
    },
  };
}
