import type { AuditLogger } from "./audit-logger.js";
import type { AuditStore } from "../store/audit-store.js";
import { contentsOf } from "./audit-content.js";
import type { AuditEntry, AuditEntryContent } from "./audit-entry.js";
import type { AuditQueue } from "./audit-queue.js";
import type { AuditSpool } from "./audit-spool.js";

/** What the writer reports through (ResidencyMetrics has them). */
export interface AuditWriterMetrics {
  setAuditQueueDepth(depth: number): void;
  countAuditWriteFailures(count?: number): void;
  countAuditEntriesWritten(count: number): void;
}

export interface AuditWriterOptions {
  readonly store: Pick<AuditStore, "appendAudit">;
  readonly queue: AuditQueue;
  readonly spool: AuditSpool;
  readonly batchSize: number;
  /** Longest a record waits in the queue before its batch is written. */
  readonly flushIntervalMs: number;
  /** After a failed database write, how long the writer spools before trying the database again. @default 1000 */
  readonly retryIntervalMs?: number;
  /** During `close`, how long one database write may take before its batch is spooled instead. @default 5000 */
  readonly closeTimeoutMs?: number;
  readonly metrics: AuditWriterMetrics;
  readonly logger: AuditLogger;
  /** Entries now in the chain (the live stream polls sooner). */
  readonly onAppended?: (entries: readonly AuditEntry[]) => void;
  /** This many more records, the oldest taken from the queue, are durable (in the database or the spool). */
  readonly onDurable?: (records: number) => void;
  /** Runs a database write inside a span, when tracing is on. */
  readonly traced?: <T>(name: string, attributes: Record<string, number>, fn: () => Promise<T>) => Promise<T>;
}

export interface AuditWriter {
  /** Starts the flush timer and replays what an earlier run left in the spool. */
  start(): void;
  /** A batch is ready: write soon, without waiting for the timer. */
  wake(): void;
  /** Writes everything queued now (to the database, else to the spool); for tests and shutdown. */
  flush(): Promise<void>;
  /** Stops the timer and flushes; the final writes give up on the database after closeTimeoutMs. */
  close(): Promise<void>;
}

/** Spool chunks replayed per writer cycle before the queue gets its turn. */
const REPLAY_CHUNKS_PER_CYCLE = 20;

/**
 * The batch writer. One cycle at a time: replay the spool when the database may be back, then write the queue
 * in batches of at most `batchSize`. A batch goes to the database, or to the spool when the database fails or
 * the spool still holds older records (so the chain keeps their order). When the spool fails too, the batch is
 * held in memory, counted against the queue's bound: the decision path then sheds, and no record is dropped.
 */
export function createAuditWriter(options: AuditWriterOptions): AuditWriter {
  const { store, queue, spool, batchSize, metrics, logger } = options;
  const retryIntervalMs = options.retryIntervalMs ?? 1_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const traced = options.traced ?? ((_name, _attributes, fn) => fn());
  /** Batches taken from the queue and not yet durable, oldest first, with the number of records each holds. */
  const pending: { readonly contents: AuditEntryContent[]; readonly records: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closing = false;
  let databaseDownSince: number | undefined;
  let retryAt = 0;
  let spoolFailing = false;

  const databaseFailed = (err: unknown, count: number) => {
    metrics.countAuditWriteFailures();
    retryAt = Date.now() + retryIntervalMs;
    if (databaseDownSince === undefined) {
      databaseDownSince = Date.now();
      logger.warn({ err, records: count }, "audit database write failed: spooling audit records locally until it is back");
    }
  };

  const appended = (entries: readonly AuditEntry[]) => {
    if (entries.length === 0) return;
    metrics.countAuditEntriesWritten(entries.length);
    options.onAppended?.(entries);
  };

  async function toDatabase(contents: AuditEntryContent[], spooled?: { segment: string; fromLine: number }): Promise<boolean> {
    try {
      const write = traced("audit.append", { "audit.entries": contents.length }, () => store.appendAudit(contents, spooled));
      appended(closing ? await withTimeout(write, closeTimeoutMs) : await write);
      return true;
    } catch (err) {
      databaseFailed(err, contents.length);
      return false;
    }
  }

  /** Replays spooled chunks while the database takes them; true when the spool is empty. */
  async function replay(): Promise<boolean> {
    for (let i = 0; i < REPLAY_CHUNKS_PER_CYCLE; i++) {
      const chunk = await spool.next(batchSize);
      if (chunk === undefined) {
        if (databaseDownSince !== undefined) {
          logger.info({ spooled_for_ms: Date.now() - databaseDownSince }, "audit spool replayed into the database");
          databaseDownSince = undefined;
        }
        return true;
      }
      if (!(await toDatabase(chunk.contents, { segment: chunk.segment, fromLine: chunk.fromLine }))) return false;
      spool.replayed(chunk);
    }
    return !spool.backlog;
  }

  /** Makes one batch durable: database, else spool. False when neither took it. */
  async function persist(batch: AuditEntryContent[]): Promise<boolean> {
    if (!spool.backlog && (await toDatabase(batch))) return true;
    try {
      await spool.append(batch);
      if (spoolFailing) logger.info({}, "audit spool writable again");
      spoolFailing = false;
      return true;
    } catch (err) {
      metrics.countAuditWriteFailures();
      if (!spoolFailing) logger.error({ err, records: batch.length }, "audit spool write failed: holding records in memory");
      spoolFailing = true;
      retryAt = Date.now() + retryIntervalMs;
      return false;
    }
  }

  async function cycle(): Promise<void> {
    if (spool.backlog && !closing && Date.now() >= retryAt) await replay();
    for (;;) {
      if (pending.length === 0) {
        if (queue.size === 0) break;
        const contents: AuditEntryContent[] = [];
        const records = queue.take(batchSize);
        for (const record of records) contentsOf(record, contents);
        pending.push({ contents, records: records.length });
      }
      if (!(await persist(pending[0]!.contents))) break;
      const done = pending.shift()!;
      options.onDurable?.(done.records);
    }
    queue.held = pending.reduce((n, batch) => n + batch.records, 0);
    metrics.setAuditQueueDepth(queue.size + queue.held);
  }

  function run(): Promise<void> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await cycle();
        } while (again);
      } catch (err) {
        logger.error({ err }, "audit writer cycle failed");
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    start() {
      timer = setInterval(() => {
        if (queue.size > 0 || pending.length > 0 || spool.backlog) void run();
      }, options.flushIntervalMs);
      timer.unref();
      if (spool.backlog) void run();
    },
    wake() {
      if (!closing) setImmediate(() => void run());
    },
    async flush() {
      await running;
      await run();
    },
    async close() {
      closing = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
      await run();
      if (queue.size + queue.held > 0) {
        logger.error({ records: queue.size + queue.held }, "audit records could not be written to the database or the spool at shutdown");
      }
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`audit database write took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
