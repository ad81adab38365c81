import type { AuditSettings } from "./audit-log.js";

/** Which database the writer thread appends to: the same one the replica's policy store uses. */
export interface AuditDatabaseTarget {
  /** Postgres; undefined for the embedded SQLite file in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

/** What the writer thread is started with (workerData). */
export interface AuditThreadInit {
  readonly target: AuditDatabaseTarget;
  /** The audit ring (audit-ring.ts) the decision thread writes encoded records to. */
  readonly ring: SharedArrayBuffer;
  readonly settings: AuditSettings;
  readonly retryIntervalMs: number | undefined;
  /** The thread's nice value (thread-priority.ts). */
  readonly nice: number;
  /**
   * "idle": SCHED_IDLE instead of the nice value (thread-priority.ts); "auto": the nice value, then SCHED_IDLE where
   * the decision thread may raise it again (writer-priority-control.ts).
   */
  readonly sched: "normal" | "idle" | "auto";
}

/** Main thread → writer thread. */
export type ToAuditThread =
  /** Answer "flushed" once everything in the ring now is durable (or held, when neither the database nor the spool takes it). */
  | { readonly type: "flush"; readonly id: number }
  /** Flush, close the spool and the database, answer "closed". */
  | { readonly type: "close"; readonly id: number };

/** Writer thread → main thread. */
export type FromAuditThread =
  | { readonly type: "ready" }
  /** The thread (`tid`) now runs under SCHED_IDLE and may be raised again (AUDIT_WRITER_SCHED=auto). */
  | { readonly type: "idle"; readonly tid: number }
  | { readonly type: "failed"; readonly message: string }
  /** Entries appended to the chain (metrics; the live stream polls sooner). */
  | { readonly type: "appended"; readonly entries: number }
  | { readonly type: "writeFailures"; readonly count: number }
  | { readonly type: "log"; readonly level: "info" | "warn" | "error"; readonly obj: Record<string, unknown>; readonly msg: string }
  | { readonly type: "flushed"; readonly id: number }
  | { readonly type: "closed"; readonly id: number };
