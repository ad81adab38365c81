import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The server the Postgres tests create their databases on: a superuser (or CREATEDB) connection to any database.
 * Tests run against a real server; RESIDENCY_TEST_POSTGRES_URL points them elsewhere.
 */
export const ADMIN_URL = process.env.RESIDENCY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  readonly name: string;
  /** postgres://… of the new database, with the admin URL's credentials. */
  readonly url: string;
  /** Drops the database, disconnecting whoever is still connected. */
  readonly drop: () => Promise<void>;
}

/** Runs statements on a short-lived admin connection (to the admin URL's database, or to `database`). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  database?: string,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: database ? urlOf(database) : ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function urlOf(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A new, empty database of its own, so test files run in parallel and leave nothing behind. Its default collation
 * is ICU en-US (where "B" sorts after "a"), as on many production servers, so the tests see whether the schema
 * pins byte order where it must; servers without ICU get their default.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `residency_test_${randomBytes(6).toString("hex")}`;
  try {
    await adminQuery(
      `create database "${name}" template template0 locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'`,
    );
  } catch {
    await adminQuery(`create database "${name}"`);
  }
  return {
    name,
    url: urlOf(name),
    drop: async () => {
      await adminQuery(`drop database if exists "${name}" with (force)`);
    },
  };
}
