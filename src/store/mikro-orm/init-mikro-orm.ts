import { MikroORM, type IDatabaseDriver, type Options } from "@mikro-orm/core";

/**
 * `MikroORM.init` without its configuration loader. `init` loads a `.env` file from the working directory and
 * merges every `MIKRO_ORM_*` environment variable over the options it is given (MIKRO_ORM_DB_NAME or
 * MIKRO_ORM_CLIENT_URL would silently point the store at another database), and looks for CLI config files. Only
 * config.ts reads the environment in this project, so this runs the rest of `init` on the options alone: build the
 * configuration, discover the given entities, let the platform register its extension lookups, connect.
 *
 * `connect()` does not fail when the database is unreachable (it only logs); callers ping afterwards.
 */
export async function initMikroOrm<D extends IDatabaseDriver>(options: Options<D>): Promise<MikroORM<D>> {
  const orm = new MikroORM<D>(options);
  await orm.discoverEntities();
  orm.config.getPlatform().init(orm);
  await orm.connect();
  return orm;
}
