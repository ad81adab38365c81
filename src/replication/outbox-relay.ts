import type { ChangeBus, ChangeEvent } from "../bus/change-bus.js";
import type { PolicyStore } from "../store/policy-store.js";

export interface OutboxRelayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  readonly store: Pick<PolicyStore, "unpublishedChanges" | "markPublished">;
  readonly bus: Pick<ChangeBus, "publish" | "connected">;
  readonly logger: OutboxRelayLogger;
  /** The safety pass: how often the outbox is drained besides start and reconnects. */
  readonly intervalMs: number;
  /** Changes read per round trip. @default 500 */
  readonly batchSize?: number;
  /**
   * Published changes are marked in one statement per this many milliseconds rather than one per write: each mark
   * is a commit, whose WAL flush the next write's commit may have to wait behind. A crash before the mark only
   * means one more (ignored) publish by a relay. @default 1000
   */
  readonly markDelayMs?: number;
}

export interface OutboxRelay {
  /**
   * The normal path, right after a commit: publish (then it resolves), and mark published shortly after, several
   * at once. Never throws: a failure is logged and the change stays in the outbox for the relay.
   */
  publishCommitted(change: ChangeEvent): Promise<void>;
  /** Publishes every unpublished change, oldest first, and marks it; concurrent calls share one pass. Never throws. */
  drain(reason: string): Promise<void>;
  /** Starts the safety timer. */
  start(): void;
  /** Stops the timer and waits for the work under way. */
  stop(): Promise<void>;
}

/**
 * The transactional outbox's relay. Every write commits its change-log row with it; the writer publishes right
 * after the commit, and this relay publishes whatever a writer could not (it crashed between commit and publish,
 * or the bus was down), at start, whenever the bus reconnects, and on a slow timer. Several replicas may relay the
 * same change: subscribers ignore versions they already have, so a duplicate is harmless.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, bus, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const pending = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failing = false;
  let toMark: number[] = [];
  let markTimer: NodeJS.Timeout | undefined;

  const flushMarks = async (): Promise<void> => {
    clearTimeout(markTimer);
    markTimer = undefined;
    const versions = toMark;
    toMark = [];
    if (versions.length === 0) return;
    try {
      await store.markPublished(versions);
    } catch (err) {
      // Published but not marked: the relay publishes them once more, which subscribers ignore.
      logger.warn({ err, versions: versions.length }, "marking changes published failed");
    }
  };

  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work)).catch(() => undefined);
    return work;
  };

  const publishBatch = async (): Promise<{ published: number; more: boolean }> => {
    const batch = await store.unpublishedChanges(batchSize);
    const done: number[] = [];
    try {
      for (const change of batch) {
        await bus.publish({ version: change.version, kind: change.kind, ids: change.ids });
        done.push(change.version);
      }
    } finally {
      await store.markPublished(done);
    }
    return { published: done.length, more: batch.length === batchSize };
  };

  const drainOnce = async (reason: string): Promise<void> => {
    let published = 0;
    // What this replica published and has not marked yet would otherwise look unpublished to the pass.
    await flushMarks();
    try {
      do {
        again = false;
        for (let more = true; more && !stopped && bus.connected; ) {
          const result = await publishBatch();
          published += result.published;
          more = result.more;
        }
      } while (again && !stopped);
    } catch (err) {
      // Once per outage: the timer retries every few seconds.
      if (!failing) logger.warn({ err, reason, published }, "outbox relay pass failed; the next pass retries");
      failing = true;
      return;
    }
    failing = false;
    if (published > 0) logger.info({ reason, published }, "outbox relay published committed changes a writer had not");
  };

  const drain = (reason: string): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (draining !== undefined) {
      again = true;
      return draining;
    }
    const run = drainOnce(reason).finally(() => {
      draining = undefined;
    });
    draining = track(run);
    return run;
  };

  return {
    publishCommitted(change) {
      return track(
        (async () => {
          try {
            await bus.publish(change);
          } catch (err) {
            logger.warn({ err, snapshot_version: change.version }, "publishing a committed change failed; the outbox relay will publish it");
            return;
          }
          toMark.push(change.version);
          markTimer ??= setTimeout(() => void track(flushMarks()), options.markDelayMs ?? 1_000);
        })(),
      );
    },

    drain,

    start() {
      if (timer !== undefined || stopped) return;
      timer = setInterval(() => void drain("timer"), options.intervalMs);
      timer.unref();
    },

    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...pending]);
      await flushMarks();
    },
  };
}
