// The audit writer thread's entry (started by threaded-audit-log.ts). It owns the expensive half of the audit:
// flattening records into chain contents, hashing them and appending them to the database (or the spool), on its
// own connection, so that none of it runs on the event loop that answers decisions.
import { parentPort, workerData } from "node:worker_threads";
import { selectPolicyStore } from "../replication/select-policy-store.js";
import type { AuditStore } from "../store/audit-store.js";
import type { AuditLogger } from "./audit-logger.js";
import { createAuditQueue } from "./audit-queue.js";
import { decodeAuditRecord } from "./audit-record-codec.js";
import { createAuditSpool } from "./audit-spool.js";
import type { AuditThreadInit, FromAuditThread, ToAuditThread } from "./audit-thread-protocol.js";
import { createAuditWriter } from "./audit-writer.js";

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
const store = selectPolicyStore({ databaseUrl: init.target.databaseUrl, dataDir: init.target.dataDir, runMigrations: false }).store;
let opened: Promise<void> | undefined;
let isOpen = false;
/** Opened on first use and again after a failed open: the database may be down when the thread starts. */
const appendOnly: Pick<AuditStore, "appendAudit"> = {
  async appendAudit(contents, spool) {
    opened ??= store.open().then(
      () => void (isOpen = true),
      (err: unknown) => {
        opened = undefined;
        throw err;
      },
    );
    await opened;
    return store.appendAudit(contents, spool);
  },
};

const spool = createAuditSpool({
  dir: settings.spoolDir,
  onCorruptLine: (segment, line, problem) => logger.error({ segment, line, problem }, "unreadable audit spool line skipped"),
});
// The main thread bounds what it sends by queueMax (records sent and not yet durable), so this queue never fills;
// the margin is for the records the main thread sends again after a restart of this thread.
const queue = createAuditQueue(settings.queueMax * 2, settings.batchSize, () => writer.wake());
const writer = createAuditWriter({
  store: appendOnly,
  queue,
  spool,
  batchSize: settings.batchSize,
  flushIntervalMs: settings.flushIntervalMs,
  ...(init.retryIntervalMs === undefined ? {} : { retryIntervalMs: init.retryIntervalMs }),
  metrics: {
    setAuditQueueDepth: () => {}, // the main thread knows the depth: what it sent and what is durable
    countAuditWriteFailures: (count = 1) => send({ type: "writeFailures", count }),
    countAuditEntriesWritten: (entries) => send({ type: "appended", entries }),
  },
  logger,
  onDurable: (records) => send({ type: "durable", records }),
});

port.on("message", (message: ToAuditThread) => {
  switch (message.type) {
    case "records":
      for (const line of message.lines.split("\n")) {
        let record;
        try {
          record = decodeAuditRecord(line);
        } catch (err) {
          // Thrown here it would end the thread, and the restarted one would be handed the same line again.
          logger.error({ err, line }, "audit record line unreadable: not appended (a bug in audit-record-codec)");
          continue;
        }
        if (!queue.offer(record)) {
          logger.error({ queue_capacity: queue.capacity, line }, "audit writer thread queue full: record not appended (a bug: the main thread bounds what it sends)");
        }
      }
      return;
    case "flush":
      void writer.flush().then(() => send({ type: "flushed", id: message.id }));
      return;
    case "close":
      void (async () => {
        await writer.close();
        await spool.close();
        if (isOpen) await store.close().catch((err: unknown) => logger.warn({ err }, "audit writer thread: closing the database failed"));
        send({ type: "closed", id: message.id });
      })();
      return;
  }
});

try {
  await spool.open();
  writer.start();
  send({ type: "ready" });
} catch (err) {
  send({ type: "failed", message: `audit spool ${settings.spoolDir}: ${(err as Error).message}` });
}
