import { ConnectionException } from "@mikro-orm/core";
import { UnavailableError } from "../../domain/errors.js";
import { messageOf } from "../mikro-orm/store-errors.js";

/**
 * SQLSTATEs meaning "the database cannot serve this right now": connection exceptions (08), insufficient resources
 * (53), operator intervention such as a shutdown or a cancelled statement (57), system errors (58), a read-only
 * transaction on a standby (25006), a missing database (3D000) and refused credentials (28).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58|28|25006$|3D000$)/;
/** Socket errors of node-postgres. */
const UNAVAILABLE_ERRNO = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;
/** node-postgres and knex say these without a code. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Knex: Timeout acquiring a connection/i;
/** Deadlock and serialization failure: the transaction was rolled back and may run again. */
const TRANSIENT_SQLSTATE = /^(40001|40P01)$/;

/** The error and its causes (MikroORM and knex wrap the driver's error). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && out.length < 5; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

function codeOf(err: unknown): string {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : "";
}

function isUnavailable(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      e instanceof ConnectionException ||
      UNAVAILABLE_SQLSTATE.test(codeOf(e)) ||
      UNAVAILABLE_ERRNO.test(codeOf(e)) ||
      (e instanceof Error && (e.name === "KnexTimeoutError" || UNAVAILABLE_MESSAGE.test(e.message))),
  );
}

export function isPostgresTransient(err: unknown): boolean {
  return chain(err).some((e) => TRANSIENT_SQLSTATE.test(codeOf(e)));
}

/**
 * Database trouble becomes UnavailableError naming the database (`location`: "postgres host:port/database");
 * domain errors and bugs pass through unchanged.
 */
export function toPostgresStoreError(err: unknown, location: string): unknown {
  if (err instanceof UnavailableError || !isUnavailable(err)) return err;
  return new UnavailableError(`policy store ${location} is unavailable: ${messageOf(err)}`, { cause: err });
}
