/** One statement's result, as node-postgres reports it. */
export interface StatementResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

/**
 * A statement node-postgres prepares once per connection under `name` and then only binds and executes: the hot
 * reads skip parsing and planning. A name must always go with the same text.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
  readonly values: readonly unknown[];
}

/** A pooled node-postgres connection: as much of pg.Client as the store uses. */
export interface RawConnection {
  /** Text without parameters goes as a simple query: several statements, one round trip, one result each. */
  query(statement: string): Promise<StatementResult | StatementResult[]>;
  query(statement: PreparedStatement): Promise<StatementResult>;
  end(): Promise<void>;
}

/** Where the connections come from: the ORM's own pool (knex), so these paths add no connections of their own. */
export interface RawConnectionPool {
  /** A connection, and how to hand it back to the pool it came from. */
  acquire(): Promise<{ readonly connection: RawConnection; release(): void }>;
}

/** Runs one statement on a connection of the pool (autocommit: one statement is its own transaction). */
export async function runStatement(pool: RawConnectionPool, statement: PreparedStatement): Promise<StatementResult> {
  const { connection, release } = await pool.acquire();
  try {
    return await connection.query(statement);
  } finally {
    release();
  }
}
