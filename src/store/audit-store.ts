import type { AuditEntry, AuditEntryContent, StoredViolation } from "../audit/audit-entry.js";
import type { ChainHead } from "../audit/audit-hash.js";

/** Where a replayed chunk of a spool segment starts. */
export interface SpoolPosition {
  /** The segment's file name. */
  readonly segment: string;
  /** Lines of the segment before this chunk. */
  readonly fromLine: number;
}

/**
 * What is left of a replayed chunk once `done` lines of its segment are in the chain (an earlier attempt may have
 * appended part of it), and the segment's progress to record with the append.
 */
export function spoolRemainder<T>(contents: readonly T[], spool: SpoolPosition, done: number): { todo: readonly T[]; lines: number } {
  return { todo: contents.slice(Math.max(0, done - spool.fromLine)), lines: Math.max(done, spool.fromLine + contents.length) };
}

export interface AccessLogQuery {
  readonly tenantId: string;
  /** "" for every learner (and tenant-level decisions). */
  readonly learnerId: string;
  /** Epoch milliseconds, inclusive. */
  readonly start: number | undefined;
  /** Epoch milliseconds, exclusive. */
  readonly end: number | undefined;
  readonly allowed: boolean | undefined;
  readonly limit: number;
  /** Keyset cursor: entries ordered after (older than) this one. */
  readonly before: { readonly occurredAt: number; readonly seq: number } | undefined;
}

export interface ViolationQuery {
  /** undefined: every tenant. */
  readonly tenantIds: readonly string[] | undefined;
  /** A Framework name, "" for pinning rules; undefined for every framework. */
  readonly framework: string | undefined;
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly limit: number;
  readonly before: { readonly occurredAt: number; readonly seq: number; readonly idx: number } | undefined;
}

/**
 * The hash-chained audit log's storage, in the policy store's database (so that admin events commit with the
 * change they record). Appends are serialised on the chain head row; entries are never updated or deleted (the
 * database refuses it).
 *
 * Errors: UnavailableError when the database is unreachable.
 */
export interface AuditStore {
  /**
   * Appends the contents after the chain head, in order, in one transaction, and returns the entries with their
   * positions and hashes. With `spool`, also records in that transaction how far the segment is replayed, and
   * skips the lines an earlier, interrupted attempt already appended.
   */
  appendAudit(contents: readonly AuditEntryContent[], spool?: SpoolPosition): Promise<AuditEntry[]>;
  auditChainHead(): Promise<ChainHead>;
  /** Entries with fromSeq ≤ seq ≤ toSeq, ascending, at most `limit`. */
  readAuditEntries(fromSeq: number, toSeq: number, limit: number): Promise<AuditEntry[]>;
  /** Violation rows of the entries fromSeq ≤ seq ≤ toSeq, by (seq, idx). */
  readAuditViolations(fromSeq: number, toSeq: number): Promise<StoredViolation[]>;
  /** DECISION entries, newest first: by occurred_at, then seq, descending. */
  listAccessLogs(query: AccessLogQuery): Promise<AuditEntry[]>;
  /** Violations, newest first: by occurred_at, seq, idx, descending. */
  listViolations(query: ViolationQuery): Promise<StoredViolation[]>;
}
