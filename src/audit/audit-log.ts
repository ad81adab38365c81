import type { AuditStore } from "../store/audit-store.js";
import type { AuditLogger } from "./audit-logger.js";
import type { AuditRecord } from "./audit-record.js";
import { createAuditQueue } from "./audit-queue.js";
import { createShedReporter } from "./audit-shed-reporter.js";
import type { AuditSink } from "./audit-sink.js";
import { createAuditSpool } from "./audit-spool.js";
import { createAuditStreamHub, type AuditStreamHub } from "./audit-stream-hub.js";
import { createAuditWriter, type AuditWriterMetrics } from "./audit-writer.js";

/** The audit settings of config.ts. */
export interface AuditSettings {
  /** Where records go while the database is unavailable. */
  readonly spoolDir: string;
  /** Records waiting to be written before decisions are shed with UNAVAILABLE. */
  readonly queueMax: number;
  /** Most records per database write. */
  readonly batchSize: number;
  /** Longest a record waits before its batch is written. */
  readonly flushIntervalMs: number;
}

export interface AuditLogMetrics extends AuditWriterMetrics {
  /** A decision was refused because the audit queue was full. */
  countAuditShed(): void;
}

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly settings: AuditSettings;
  readonly metrics: AuditLogMetrics;
  readonly logger: AuditLogger;
  /** Runs a database write inside a span (tracing.inSpan), when tracing is on. */
  readonly traced?: <T>(name: string, attributes: Record<string, number>, fn: () => Promise<T>) => Promise<T>;
  /** After a failed database write, how long to spool before trying the database again. @default 1000 */
  readonly retryIntervalMs?: number;
  /** How often the live stream polls the chain while someone listens. @default 250 */
  readonly streamPollMs?: number;
}

/**
 * The audit log of one replica: a bounded queue fed by `record` (the AuditSink of the decision path), a batch
 * writer into the hash chain with a local spool for database outages, and the live stream hub.
 */
export interface AuditLog extends AuditSink {
  /** Opens the spool (adopting what an earlier run left there) and starts the writer. */
  start(): Promise<void>;
  /** Writes everything queued so far; resolves when it is in the database or the spool. */
  flush(): Promise<void>;
  /** Ends the live streams. */
  closeStreams(): void;
  /** Flushes the queue (to the database, else to the spool) and stops the writer. */
  close(): Promise<void>;
  readonly hub: AuditStreamHub;
  /** Records waiting (queued, or taken but not yet durable). */
  readonly depth: number;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { settings, metrics, logger } = options;
  const hub = createAuditStreamHub({ store: options.store, logger, ...(options.streamPollMs ? { pollIntervalMs: options.streamPollMs } : {}) });
  const spool = createAuditSpool({
    dir: settings.spoolDir,
    onCorruptLine: (segment, line, problem) => logger.error({ segment, line, problem }, "unreadable audit spool line skipped"),
  });
  // The writer exists before the queue's first wake-up can come.
  let wake = () => {};
  const queue = createAuditQueue(settings.queueMax, settings.batchSize, () => wake());
  const writer = createAuditWriter({
    store: options.store,
    queue,
    spool,
    batchSize: settings.batchSize,
    flushIntervalMs: settings.flushIntervalMs,
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    metrics,
    logger,
    onAppended: () => hub.nudge(),
    ...(options.traced === undefined ? {} : { traced: options.traced }),
  });
  wake = () => writer.wake();

  const reportShed = createShedReporter(settings.queueMax, () => metrics.countAuditShed(), logger);
  let started = false;
  let closed: Promise<void> | undefined;

  return {
    record(record: AuditRecord): boolean {
      if (queue.offer(record)) return true;
      reportShed();
      return false;
    },
    async start() {
      if (started) return;
      started = true;
      await spool.open();
      writer.start();
    },
    flush: () => writer.flush(),
    closeStreams: () => hub.close(),
    close() {
      closed ??= (async () => {
        hub.close();
        if (!started) {
          // Never started (the store did not open): records can still go to the spool.
          await spool.open().catch(() => undefined);
        }
        await writer.close();
        await spool.close();
      })();
      return closed;
    },
    hub,
    get depth() {
      return queue.size + queue.held;
    },
  };
}
