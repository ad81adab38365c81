import type { AuditRecord } from "./audit-record.js";

/**
 * Where the decision path and the admin services hand audit records. `record` never waits, never throws and
 * never does I/O: it queues the record, or answers false when the queue is full, and the caller then refuses
 * the work (a decision is shed with UNAVAILABLE) rather than let it go unrecorded.
 */
export interface AuditSink {
  record(record: AuditRecord): boolean;
}

/** Accepts everything and keeps nothing: for unit tests and benchmarks of the code around audit. */
export const noopAuditSink: AuditSink = { record: () => true };
