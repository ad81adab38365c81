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
  return {
    ...store,
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
        return await readPostgresChangesSince(open.em.getConnection(), since);
      } catch (err) {
        throw toStoreError(err);
      }
    },
  };
}
