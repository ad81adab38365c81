// The audit writer thread's entry (started by threaded-audit-log.ts). It owns the expensive half of the audit:
// flattening records into chain contents, hashing them and appending them to the database (or the spool), on its
// own connection, so that none of it runs on the event loop that answers decisions.
import { parentPort, workerData } from "node:worker_threads";
import { selectPolicyStore } from "../replication/select-policy-store.js";
import type { AuditStore } from "../store/audit-store.js";
import { openSqliteAuditAppender } from "../store/sqlite/sqlite-audit-appender.js";
import { sqliteFilePath } from "../store/sqlite/sqlite-policy-store.js";
import type { AuditLogger } from "./audit-logger.js";
import { createAuditQueue } from "./audit-queue.js";
import { decodeAuditRecord } from "./audit-record-codec.js";
import { auditRingReader } from "./audit-ring.js";
import { createAuditSpool } from "./audit-spool.js";
import type { AuditThreadInit, FromAuditThread, ToAuditThread } from "./audit-thread-protocol.js";
import { createAuditWriter } from "./audit-writer.js";
import { mayLeaveIdlePolicy, setThisThreadIdlePolicy, setThisThreadNice, thisThreadIdOrReason } from "./thread-priority.js";

const port = parentPort;
if (port === null) throw new Error("audit-writer-thread.ts runs as a worker thread (threaded-audit-log.ts starts it)");
const init = workerData as AuditThreadInit;
const send = (message: FromAuditThread) => port.postMessage(message);

/** Errors lose their prototype on the way to the main thread: keep what the log needs of them. */
function plain(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] =
      value instanceof Error
        ? { type: value.name, message: value.message, stack: value.stack, code: (value as NodeJS.ErrnoException).code }
        : value;
  }
  return out;
}

const logger: AuditLogger = {
  info: (obj, msg) => send({ type: "log", level: "info", obj: plain(obj), msg }),
  warn: (obj, msg) => send({ type: "log", level: "warn", obj: plain(obj), msg }),
  error: (obj, msg) => send({ type: "log", level: "error", obj: plain(obj), msg }),
};

const { settings } = init;

/** Where the thread appends: the store itself on Postgres; on SQLite, a connection of its own without the ORM. */
type Appender = Pick<AuditStore, "appendAudit"> & { close(): Promise<void> };

async function openAppender(): Promise<Appender> {
  const { dataDir, databaseUrl } = init.target;
  const { store, kind } = selectPolicyStore({ databaseUrl, dataDir, runMigrations: false });
  await store.open();
  if (kind === "postgresql") return store;
  // Opening the store created the file, its schema and the chain head; the appender needs all three.
  await store.close();
  const appender = openSqliteAuditAppender(sqliteFilePath({ dataDir }));
  return { appendAudit: (contents, spool) => appender.appendAudit(contents, spool), close: async () => appender.close() };
}

let appender: Promise<Appender> | undefined;
/** Opened on first use (at start under AUDIT_WRITER_SCHED=auto), and again after a failed open: the database may be down when the thread starts. */
function openedAppender(): Promise<Appender> {
  appender ??= openAppender().catch((err: unknown) => {
    appender = undefined;
    throw err;
  });
  return appender;
}
const appendOnly: Pick<AuditStore, "appendAudit"> = {
  appendAudit: async (contents, spool) => (await openedAppender()).appendAudit(contents, spool),
};

const spool = createAuditSpool({
  dir: settings.spoolDir,
  onCorruptLine: (segment, line, problem) => logger.error({ segment, line, problem }, "unreadable audit spool line skipped"),
});
const ring = auditRingReader(init.ring);
/**
 * Ring records per queued record, in queue order: 1, plus the unreadable lines skipped just before it, so that
 * the ring's bytes are released in step with what the writer makes durable.
 */
const weights: number[] = [];
let skipped = 0;
// The ring bounds the records not yet durable by the queue bound; the queue here never holds more than those.
const queue = createAuditQueue(settings.queueMax + 1, settings.batchSize, () => writer.wake());
const writer = createAuditWriter({
  store: appendOnly,
  queue,
  spool,
  batchSize: settings.batchSize,
  flushIntervalMs: settings.flushIntervalMs,
  ...(init.retryIntervalMs === undefined ? {} : { retryIntervalMs: init.retryIntervalMs }),
  metrics: {
    setAuditQueueDepth: () => {}, // the decision thread reads the depth off the ring
    countAuditWriteFailures: (count = 1) => send({ type: "writeFailures", count }),
    countAuditEntriesWritten: (entries) => send({ type: "appended", entries }),
  },
  logger,
  onDurable: (records) => ring.durable(weights.splice(0, records).reduce((sum, weight) => sum + weight, 0)),
});

/** How far ahead of the decision thread this thread maps the ring's pages (its first lap only). */
const RING_PREFAULT_BYTES = 4 * 1024 * 1024;

/** Moves what the decision thread wrote to the ring into the writer's queue. */
function takeFromRing(): void {
  ring.prefault(RING_PREFAULT_BYTES);
  for (const line of ring.read()) {
    let record;
    try {
      record = decodeAuditRecord(line);
    } catch (err) {
      // Thrown here it would end the thread, and the next one would read the same line again.
      logger.error({ err, line }, "audit record line unreadable: not appended (a bug in audit-record-codec)");
      skipped++;
      continue;
    }
    if (queue.offer(record)) {
      weights.push(1 + skipped);
      skipped = 0;
    } else {
      logger.error({ queue_capacity: queue.capacity, line }, "audit writer thread queue full: record not appended (a bug: the ring bounds it)");
      skipped++;
    }
  }
}

port.on("message", (message: ToAuditThread) => {
  switch (message.type) {
    case "flush":
      takeFromRing();
      void writer.flush().then(() => send({ type: "flushed", id: message.id }));
      return;
    case "close":
      clearInterval(poll);
      poll = undefined;
      takeFromRing();
      void (async () => {
        await writer.close();
        await spool.close();
        const opened = await appender?.catch(() => undefined);
        await opened?.close().catch((err: unknown) => logger.warn({ err }, "audit writer thread: closing the database failed"));
        send({ type: "closed", id: message.id });
      })();
      return;
  }
});

/** How often the ring is read; the writer still batches by AUDIT_BATCH_SIZE and AUDIT_FLUSH_MS. */
const RING_POLL_MS = 5;
let poll: NodeJS.Timeout | undefined;

/**
 * Decisions first: on a busy machine the writer runs when a core is free, and catches up from the ring. Returns
 * the nice value the thread runs at.
 */
async function takePriority(): Promise<number> {
  if (init.sched === "idle") {
    const notIdle = await setThisThreadIdlePolicy();
    if (notIdle === undefined) return 0;
    logger.info({ reason: notIdle, nice: init.nice }, "audit writer thread not under SCHED_IDLE (AUDIT_WRITER_SCHED=idle): it runs at AUDIT_WRITER_NICE");
  }
  const notNiced = setThisThreadNice(init.nice);
  if (notNiced === undefined) return init.nice;
  logger.info({ nice: init.nice, reason: notNiced }, "audit writer thread runs at normal priority: AUDIT_WRITER_NICE not applied");
  return 0;
}

/**
 * AUDIT_WRITER_SCHED=auto: under SCHED_IDLE once its database connection is open (opening it costs as much CPU as
 * thousands of entries, which on a busy host would already count as a stall), and only where the decision thread
 * can raise it again: a writer starved for good would shed every decision.
 */
async function goIdleWhenWarm(nice: number): Promise<void> {
  await openedAppender().catch(() => undefined); // a failed open is tried again on first use
  const tid = thisThreadIdOrReason();
  const notIdle = typeof tid === "string" ? tid : (mayLeaveIdlePolicy(nice) ?? (await setThisThreadIdlePolicy()));
  if (notIdle === undefined) {
    send({ type: "idle", tid: tid as number });
    return;
  }
  logger.info({ reason: notIdle, nice: init.nice }, "audit writer thread runs at AUDIT_WRITER_NICE, not under SCHED_IDLE while it keeps up (AUDIT_WRITER_SCHED=auto)");
}

const nice = await takePriority();

try {
  ring.prefault(RING_PREFAULT_BYTES);
  await spool.open();
  writer.start();
  poll = setInterval(takeFromRing, RING_POLL_MS);
  if (init.sched === "auto") void goIdleWhenWarm(nice);
  send({ type: "ready" });
} catch (err) {
  send({ type: "failed", message: `audit spool ${settings.spoolDir}: ${(err as Error).message}` });
}
