import type { Snapshot } from "./snapshot.js";

export interface SnapshotHolderLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Holds the current snapshot and swaps it atomically. A refresh that fails keeps the last good snapshot
 * (decisions go on) and is reported; concurrent refresh requests share one load.
 */
export interface SnapshotHolder {
  /** The snapshot decisions read. Throws before the first successful load. */
  current(): Snapshot;
  readonly loaded: boolean;
  /** Reloads and swaps; resolves with the snapshot in force afterwards. */
  refresh(): Promise<Snapshot>;
  /** Resolves true once the current snapshot is at least `version`, false after `timeoutMs`. */
  waitForVersion(version: number, timeoutMs: number): Promise<boolean>;
  /** Number of failed reloads since start. */
  readonly failedRefreshes: number;
}

export function createSnapshotHolder(options: {
  load: () => Promise<Snapshot>;
  logger: SnapshotHolderLogger;
}): SnapshotHolder {
  let snapshot: Snapshot | undefined;
  let inFlight: Promise<Snapshot> | undefined;
  let again = false;
  let failedRefreshes = 0;
  const waiters = new Set<{ version: number; resolve: (ok: boolean) => void }>();

  const swap = (next: Snapshot) => {
    // A slower load must never replace a newer snapshot.
    if (snapshot !== undefined && next.version < snapshot.version) return;
    snapshot = next;
    for (const waiter of waiters) {
      if (next.version >= waiter.version) {
        waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  };

  const loadOnce = async (): Promise<Snapshot> => {
    try {
      do {
        again = false;
        const started = performance.now();
        const before = snapshot;
        const next = await options.load();
        swap(next);
        // A load may find nothing new (a catch-up that was already current): nothing to report.
        if (next === before) continue;
        options.logger.info(
          { snapshot_version: next.version, policies: next.policyCount, load_ms: Math.round(performance.now() - started) },
          "snapshot loaded",
        );
      } while (again);
      return snapshot!;
    } catch (err) {
      failedRefreshes++;
      options.logger.error({ err, snapshot_version: snapshot?.version }, "snapshot reload failed; keeping the last good snapshot");
      throw err;
    } finally {
      inFlight = undefined;
    }
  };

  return {
    current() {
      if (snapshot === undefined) throw new Error("snapshot not loaded yet");
      return snapshot;
    },
    get loaded() {
      return snapshot !== undefined;
    },
    get failedRefreshes() {
      return failedRefreshes;
    },
    refresh() {
      // A change committed while a load is running may not be in it: load once more afterwards.
      if (inFlight !== undefined) {
        again = true;
        return inFlight;
      }
      inFlight = loadOnce();
      return inFlight;
    },
    waitForVersion(version, timeoutMs) {
      if (snapshot !== undefined && snapshot.version >= version) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          version,
          resolve: (ok: boolean) => {
            clearTimeout(timer);
            resolve(ok);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(false);
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
