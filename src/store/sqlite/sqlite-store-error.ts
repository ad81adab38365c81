import { ConnectionException, LockWaitTimeoutException, ReadOnlyException } from "@mikro-orm/core";
import { UnavailableError } from "../../domain/errors.js";
import { messageOf } from "../mikro-orm/store-errors.js";

// SQLite result codes (copied onto MikroORM's DriverException as `code`) meaning "the database cannot serve
// this right now", as opposed to a bug in a statement.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOTADB|CORRUPT|PERM)/;

function codeOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** Another connection holds the write lock (MikroORM turns "database is locked" into LockWaitTimeoutException). */
export function isSqliteBusy(err: unknown): boolean {
  return err instanceof LockWaitTimeoutException || /^SQLITE_BUSY/.test(codeOf(err) ?? "");
}

/** Database trouble becomes UnavailableError; domain errors and bugs pass through unchanged. */
export function toSqliteStoreError(err: unknown, path: string): unknown {
  const unavailable =
    err instanceof ConnectionException ||
    err instanceof LockWaitTimeoutException ||
    err instanceof ReadOnlyException ||
    UNAVAILABLE_CODES.test(codeOf(err) ?? "") ||
    (err instanceof Error && err.name === "KnexTimeoutError"); // no pooled connection became free in time
  if (!unavailable) return err;
  return new UnavailableError(`policy store ${path} is unavailable: ${messageOf(err)}`, { cause: err });
}
