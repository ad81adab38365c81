/** Where a Postgres store connects, parsed from its URL. */
export interface PostgresTarget {
  /** The URL with the scheme normalised to `postgresql:`, for MikroORM and node-postgres. */
  readonly url: string;
  /** host:port/database, for messages: never the user's password. */
  readonly location: string;
}

/**
 * Schemes accepted: postgres:, postgresql:, and the SQLAlchemy spelling postgresql+asyncpg: that the seed's
 * configuration uses (asyncpg and node-postgres read the same URL).
 */
const SCHEME = /^(postgres|postgresql|postgresql\+asyncpg):\/\//i;

/** Parses a Postgres URL; throws an Error naming the problem (never echoing the URL, which may hold a password). */
export function parsePostgresUrl(raw: string): PostgresTarget {
  const scheme = SCHEME.exec(raw);
  if (!scheme) {
    const given = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
    const not = given ? `, not ${given}://` : "";
    throw new Error(`database URL must start with postgres://, postgresql:// or postgresql+asyncpg://${not}`);
  }
  const url = `postgresql://${raw.slice(scheme[0].length)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("database URL is not a valid URL");
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (parsed.hostname === "" || database === "") {
    throw new Error("database URL must name a host and a database (postgresql://user@host:5432/database)");
  }
  return { url, location: `${parsed.hostname}:${parsed.port || "5432"}/${database}` };
}
