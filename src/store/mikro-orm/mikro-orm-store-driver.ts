import type { EntityManager, TransactionOptions } from "@mikro-orm/core";
import type { SqlDialect } from "./audit-chain.js";

/** An open database: MikroORM instances satisfy this. */
export interface OpenDatabase {
  readonly em: EntityManager;
  close(force?: boolean): Promise<void>;
}

/**
 * What differs between the databases behind the shared MikroORM store: how to open one, which errors mean "the
 * database cannot serve this right now", and how to read one consistent snapshot.
 */
export interface MikroOrmStoreDriver {
  /** Where SQL must differ: how the audit chain head is locked. */
  readonly dialect: SqlDialect;
  /** Names the database in error messages: a file path, or host:port/database (never a password). */
  readonly location: string;
  /** Connects and prepares the schema (creates tables, or runs or checks migrations); UnavailableError on failure. */
  connect(): Promise<OpenDatabase>;
  /** Database trouble becomes UnavailableError; domain errors and bugs pass through unchanged. */
  toStoreError(err: unknown): unknown;
  /** The failed transaction was rolled back and may simply run again (SQLite busy, a Postgres deadlock). */
  isTransient(err: unknown): boolean;
  /** Options of the read transactions that must see one snapshot (REPEATABLE READ on Postgres). */
  readonly snapshotRead: TransactionOptions;
}
