import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { AuditStore } from "../store/audit-store.js";
import type { AuditLog, AuditLogMetrics, AuditSettings } from "./audit-log.js";
import type { AuditLogger } from "./audit-logger.js";
import { encodeAuditRecord } from "./audit-record-codec.js";
import { auditRingWriter, createAuditRingBuffer, ringBytesFor } from "./audit-ring.js";
import { createShedReporter } from "./audit-shed-reporter.js";
import { createAuditStreamHub } from "./audit-stream-hub.js";
import { createWriterPriorityControl } from "./writer-priority-control.js";
import type { AuditDatabaseTarget, AuditThreadInit, FromAuditThread, ToAuditThread } from "./audit-thread-protocol.js";

export interface ThreadedAuditLogOptions {
  /** The database the writer thread opens its own connection to. */
  readonly target: AuditDatabaseTarget;
  /** This thread's connection to the same database: the live stream reads the chain through it. */
  readonly store: AuditStore;
  readonly settings: AuditSettings;
  readonly metrics: AuditLogMetrics & {
    /** The writer thread, starved under SCHED_IDLE, was raised to normal priority (AUDIT_WRITER_SCHED=auto). */
    countAuditWriterStall?(): void;
  };
  readonly logger: AuditLogger;
  /** After a failed database write, how long to spool before trying again; also the restart delay of the thread. @default 1000 */
  readonly retryIntervalMs?: number;
  /** The writer thread's nice value: 0 for the process's priority, up to 19 (AUDIT_WRITER_NICE). @default 0 */
  readonly threadNice?: number;
  /**
   * "idle": the writer thread runs under SCHED_IDLE instead (AUDIT_WRITER_SCHED); "auto": under SCHED_IDLE while
   * it keeps up, raised to the nice value when records wait, where the process may raise it. @default "normal"
   */
  readonly threadSched?: "normal" | "idle" | "auto";
  /** AUDIT_WRITER_SCHED=auto's timing (writer-priority-control.ts); tests shorten it. */
  readonly priorityControl?: { readonly stallMs?: number; readonly holdMs?: number; readonly caughtUpDepth?: number; readonly behindDepth?: number };
  /** How often the live stream polls the chain while someone listens. @default 250 */
  readonly streamPollMs?: number;
}

/**
 * The audit log with its writer in a worker thread. The decision path encodes each record into a line
 * (audit-record-codec) and writes it to a shared ring (audit-ring); the writer thread reads the ring, and the
 * ring keeps each record's bytes until the thread has made it durable (in the database or its spool). So the
 * queue bound counts every record not yet durable, and if the thread dies, a new one is started and reads again
 * from the oldest record not yet durable: a record may then be appended twice, never lost.
 */
export interface ThreadedAuditLog extends AuditLog {
  /** Ends the writer thread the way a crash would (tests of the restart); resolves once it is gone. */
  crashWriterThread(): Promise<void>;
  /** The writer's policy while AUDIT_WRITER_SCHED=auto governs it; undefined otherwise. */
  readonly writerPriority: "idle" | "normal" | undefined;
}

export function createThreadedAuditLog(options: ThreadedAuditLogOptions): ThreadedAuditLog {
  const { settings, metrics, logger } = options;
  const retryIntervalMs = options.retryIntervalMs ?? 1_000;
  const hub = createAuditStreamHub({ store: options.store, logger, ...(options.streamPollMs ? { pollIntervalMs: options.streamPollMs } : {}) });
  const reportShed = createShedReporter(settings.queueMax, () => metrics.countAuditShed(), logger);
  const shared = createAuditRingBuffer(ringBytesFor(settings.queueMax));
  const ring = auditRingWriter(shared);
  const init: AuditThreadInit = { target: options.target, ring: shared, settings, retryIntervalMs: options.retryIntervalMs, nice: options.threadNice ?? 0, sched: options.threadSched ?? "normal" };

  /** The running thread, once it is ready; undefined while one starts (posting then is a no-op, see spawn). */
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let nextId = 1;
  /** Flushes and the close waiting for the thread's answer; sent again to a restarted thread. */
  const waiting = new Map<number, { readonly type: "flush" | "close"; readonly done: () => void }>();
  let closing = false;
  let closed: Promise<void> | undefined;
  const priority = createWriterPriorityControl({
    depth: () => ring.depth,
    durableRecords: () => ring.durableRecords,
    waitedFor: () => waiting.size > 0,
    nice: init.nice,
    logger,
    ...(metrics.countAuditWriterStall ? { countStall: () => metrics.countAuditWriterStall?.() } : {}),
    // A record may wait AUDIT_FLUSH_MS for its batch, and under SCHED_IDLE a burst of other work on every core
    // may hold the writer off for a moment: it catches up in the next gap. A second without a record written is
    // starvation, not a burst (raised any sooner, the writer ran at its nice value for much of a busy host's time).
    stallMs: Math.max(settings.flushIntervalMs + 100, 1_000),
    // Under SCHED_IDLE the writer still gets a sliver of a busy host's CPU: enough to write now and then, so that
    // it never stalls, and too little to keep up. A tenth of the bound waiting raises it long before decisions
    // would be shed.
    behindDepth: Math.floor(settings.queueMax / 10),
    ...options.priorityControl,
  });

  function post(message: ToAuditThread): void {
    worker?.postMessage(message);
  }

  function onMessage(message: FromAuditThread): void {
    switch (message.type) {
      case "appended":
        metrics.countAuditEntriesWritten(message.entries);
        metrics.setAuditQueueDepth(ring.depth);
        return hub.nudge();
      case "writeFailures":
        metrics.setAuditQueueDepth(ring.depth);
        return metrics.countAuditWriteFailures(message.count);
      case "log":
        return logger[message.level](message.obj, message.msg);
      case "idle":
        return priority.govern(message.tid);
      case "flushed":
      case "closed": {
        metrics.setAuditQueueDepth(ring.depth);
        const waiter = waiting.get(message.id);
        waiting.delete(message.id);
        return waiter?.done();
      }
      case "ready":
      case "failed":
        return; // handled by spawn()
    }
  }

  /**
   * Starts a writer thread; resolves once it has opened the spool. Nothing is posted to a thread before: the
   * flushes and the close asked meanwhile wait in `waiting`, and the thread gets them when it is ready.
   */
  function spawn(): Promise<void> {
    const thread = new Worker(bootstrap(), { eval: true, workerData: init, execArgv: [] });
    // The listeners and the servers keep the process alive; a writer thread left behind by a failed start must not.
    thread.unref();
    return new Promise<void>((resolve, reject) => {
      let started = false;
      thread.on("message", (message: FromAuditThread) => {
        if (message.type === "ready") {
          started = true;
          worker = thread;
          for (const [id, { type }] of waiting) post({ type, id });
          resolve();
        } else if (message.type === "failed") {
          reject(new Error(message.message));
          void thread.terminate();
        } else if (worker === thread || message.type === "log") {
          // A thread logs before it is ready too (its priority, its spool), and a log line is worth keeping from any.
          onMessage(message);
        }
      });
      thread.on("error", (err) => logger.error({ err }, "audit writer thread failed"));
      thread.on("exit", (code) => {
        if (!started) {
          reject(new Error(`audit writer thread exited (code ${code}) before it was ready`));
          return;
        }
        if (worker !== thread) return; // closed
        worker = undefined;
        priority.release();
        restart(code);
      });
    });
  }

  /** The thread died: start another, which reads the ring again from the oldest record not yet durable. */
  function restart(code: number): void {
    logger.error(
      { exit_code: code, records_not_durable: ring.depth },
      "audit writer thread exited: starting a new one, which appends the records not yet durable",
    );
    const again = async (): Promise<void> => {
      try {
        await spawn();
      } catch (err) {
        logger.error({ err }, "audit writer thread did not start; trying again");
        setTimeout(() => void again(), retryIntervalMs).unref();
      }
    };
    void again();
  }

  function request(type: "flush" | "close"): Promise<void> {
    const id = nextId++;
    return new Promise<void>((done) => {
      waiting.set(id, { type, done });
      priority.demand(type === "flush" ? "a flush waits for it" : "the shutdown waits for it");
      post({ type, id });
    });
  }

  return {
    record(record) {
      if (ring.depth < settings.queueMax && ring.write(encodeAuditRecord(record))) return true;
      reportShed();
      return false;
    },
    start() {
      ready ??= spawn();
      return ready;
    },
    async flush() {
      if (closing) return closed;
      await (ready ??= spawn());
      await request("flush");
    },
    closeStreams: () => hub.close(),
    close() {
      closed ??= (async () => {
        hub.close();
        closing = true;
        // Never started (the store did not open): the thread can still put the records in the spool.
        if (ready === undefined && ring.depth > 0) ready = spawn();
        if (ready === undefined) return;
        const started = await ready.then(
          () => true,
          (err: unknown) => {
            logger.error({ err, records: ring.depth }, "audit writer thread did not start at shutdown: its records are lost");
            return false;
          },
        );
        if (!started) return;
        await request("close");
        const thread = worker;
        worker = undefined;
        priority.release();
        await thread?.terminate();
        if (ring.depth > 0) logger.error({ records: ring.depth }, "audit records could not be written to the database or the spool at shutdown");
      })();
      return closed;
    },
    hub,
    get depth() {
      return ring.depth;
    },
    get writerPriority() {
      return priority.priority;
    },
    async crashWriterThread() {
      const thread = worker;
      if (thread === undefined) return;
      const exited = new Promise((resolve) => thread.once("exit", resolve));
      await thread.terminate();
      await exited;
    },
  };
}

/**
 * The thread's entry, as an eval'd script: the service runs its TypeScript through tsx, and tsx's loader hooks
 * are not inherited by worker threads on Node 20, so the thread registers them before importing its .ts entry.
 */
function bootstrap(): string {
  const typescript = import.meta.url.endsWith(".ts");
  const entry = new URL(`./audit-writer-thread.${typescript ? "ts" : "js"}`, import.meta.url).href;
  if (!typescript) return `import(${JSON.stringify(entry)});`;
  // tsx/esm/api resolves to its CommonJS build for require.resolve, whose register() cannot load the ESM hooks.
  const tsxApi = join(dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist/esm/api/index.mjs");
  return `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
}
