import type { OverrideUsage, PolicyStore } from "../store/policy-store.js";

export interface OverrideUsageLogger {
  warn(obj: object, msg: string): void;
}

/** Where the decision path reports that an emergency override allowed a decision. */
export interface OverrideUsageSink {
  /** No await, no I/O: counts in memory. */
  record(overrideId: string, at: number): void;
}

/**
 * Counts the decisions each emergency override allowed, in memory, and adds them to the store in batches: every
 * `flushIntervalMs`, as soon as `maxPending` uses are waiting, and at stop. A failed flush keeps its counts for the
 * next one, so none are lost while the process lives.
 */
export interface OverrideUsageCounter extends OverrideUsageSink {
  start(): void;
  /** Adds what was counted so far to the store; resolves when it is there (or the attempt failed and was kept). */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
  /** Uses counted and not yet in the store. */
  readonly pending: number;
}

export interface OverrideUsageCounterOptions {
  readonly store: Pick<PolicyStore, "addOverrideUsage">;
  readonly flushIntervalMs: number;
  /** @default 1000 */
  readonly maxPending?: number;
  /** Each use, as it is counted (the `used` metric). */
  readonly onUse?: () => void;
  readonly logger: OverrideUsageLogger;
}

export function createOverrideUsageCounter(options: OverrideUsageCounterOptions): OverrideUsageCounter {
  const maxPending = options.maxPending ?? 1_000;
  let counts = new Map<string, { count: number; lastUsedAt: number }>();
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let scheduled = false;

  const keep = (usage: readonly OverrideUsage[]) => {
    for (const u of usage) add(u.overrideId, u.count, u.lastUsedAt);
  };
  const add = (overrideId: string, count: number, at: number) => {
    const seen = counts.get(overrideId);
    if (seen === undefined) counts.set(overrideId, { count, lastUsedAt: at });
    else {
      seen.count += count;
      if (at > seen.lastUsedAt) seen.lastUsedAt = at;
    }
    pending += count;
  };

  const writeOnce = async (): Promise<void> => {
    if (counts.size === 0) return;
    const taken = counts;
    counts = new Map();
    pending = 0;
    const usage: OverrideUsage[] = [...taken].map(([overrideId, u]) => ({ overrideId, count: u.count, lastUsedAt: u.lastUsedAt }));
    try {
      // Not announced: usage is no change of any snapshot (decisions never read it), only of what the store lists.
      await options.store.addOverrideUsage(usage);
    } catch (err) {
      keep(usage);
      options.logger.warn({ err: err instanceof Error ? err.message : String(err), overrides: usage.length }, "emergency override usage not stored yet; kept for the next flush");
    }
  };

  const flush = (): Promise<void> => {
    // One write at a time; a flush asked for meanwhile runs after it, so it covers every use counted before the call.
    const run = (inFlight ?? Promise.resolve()).then(writeOnce);
    const tracked = run.finally(() => {
      if (inFlight === tracked) inFlight = undefined;
    });
    inFlight = tracked;
    return tracked;
  };

  return {
    record(overrideId, at) {
      add(overrideId, 1, at);
      options.onUse?.();
      if (pending >= maxPending && !scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
    },
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void flush(), options.flushIntervalMs);
      timer.unref();
    },
    flush,
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
    get pending() {
      return pending;
    },
  };
}
