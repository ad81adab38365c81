import type { ChangeEvent } from "../bus/change-bus.js";
import type { ComplianceSettings } from "../domain/frameworks/compliance-settings.js";
import type { StoredPolicy } from "../domain/policy.js";
import type { Region } from "../domain/region.js";
import { applySnapshotChanges } from "../snapshot/apply-snapshot-changes.js";
import { buildSnapshot, type Snapshot } from "../snapshot/snapshot.js";
import { createSnapshotHolder, type SnapshotHolder } from "../snapshot/snapshot-holder.js";
import type { ChangesSince, PolicyStore } from "../store/policy-store.js";

export interface SnapshotSyncLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SnapshotSyncOptions {
  readonly store: Pick<PolicyStore, "loadSnapshotData" | "loadChangesSince">;
  readonly regions: readonly Region[];
  readonly defaultRegion: string | undefined;
  readonly compliance: Partial<ComplianceSettings>;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly logger: SnapshotSyncLogger;
  /** Without a successful sync for this long, ask the store for its version and catch up. */
  readonly maxStalenessMs: number;
  /** Seconds from a change's commit to this replica deciding with it, per change applied as a delta. */
  readonly observePropagationLag?: (seconds: number) => void;
}

/**
 * What a policy write on this replica stored, as its writer knows it after the commit: enough to apply that one
 * change to the snapshot without reading it back from the store.
 */
export interface WrittenPolicies {
  /** Epoch milliseconds of the write (its change-log row's committed_at). */
  readonly committedAt: number;
  /** Created or updated policies, as stored. */
  readonly policies: readonly StoredPolicy[];
  readonly deletedPolicyIds: readonly string[];
}

export interface SnapshotSync {
  readonly snapshots: SnapshotHolder;
  /** The first (full) load; then the staleness timer runs. Throws when the store cannot be read. */
  start(): Promise<void>;
  /** A bus event: catch up when it is ahead of this replica. Versions already held are ignored (duplicates). */
  onEvent(event: ChangeEvent): void;
  /**
   * A change this replica committed, with what it wrote: like onEvent, but when the snapshot is at the version just
   * before it, the change is applied as it stands, without a read from the store (a snapshot further behind catches
   * up from the store, which has it too).
   */
  onCommitted(event: ChangeEvent, written: WrittenPolicies): void;
  /** Catches up from the store now; resolves with the snapshot in force, or undefined when the store failed (logged). */
  catchUp(reason: string): Promise<Snapshot | undefined>;
  /** Resolves true once this replica decides with `version`, false after `timeoutMs`; catches up when behind. */
  waitFor(version: number, timeoutMs: number): Promise<boolean>;
  /** Epoch milliseconds when the store last confirmed the snapshot current (the start of that read). */
  readonly syncedAt: number | undefined;
  /** Events whose version skipped one no event had announced (each one triggered a catch-up). */
  readonly gaps: number;
  /** Full reloads after the first (the change log did not reach back far enough). */
  readonly fullReloads: number;
  stop(): Promise<void>;
}

/** Retries of a failed catch-up back off from this to the staleness bound (at most 5 s). */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Keeps this replica's snapshot in step with the store. Changes are applied in version order as deltas
 * (`loadChangesSince(current)` → `applySnapshotChanges`); a full load happens at start and whenever the change log
 * no longer reaches back. Catch-ups run on bus events ahead of the snapshot (a gap needs nothing special: the
 * delta holds every change since the current version), on bus reconnects, for readers waiting for a version, and
 * after `maxStalenessMs` of silence. A failed catch-up keeps the last good snapshot and is retried with backoff.
 */
export function createSnapshotSync(options: SnapshotSyncOptions): SnapshotSync {
  const { store, clock, logger } = options;
  let syncedAt: number | undefined;
  let highestAnnounced = 0;
  let gaps = 0;
  let fullReloads = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<unknown> | undefined;
  /** Changes committed here and not applied yet, by version (each is applied only onto the version before it). */
  const committedHere = new Map<number, ChangesSince>();

  const forgetApplied = (version: number) => {
    for (const held of committedHere.keys()) if (held <= version) committedHere.delete(held);
  };

  const fullLoad = async (readStarted: number): Promise<Snapshot> => {
    const data = await store.loadSnapshotData();
    syncedAt = readStarted;
    forgetApplied(data.changeVersion);
    return buildSnapshot({
      version: data.changeVersion,
      regions: options.regions,
      policies: data.policies,
      regionStatuses: data.regionStatuses,
      overrides: data.overrides ?? [],
      defaultRegion: options.defaultRegion,
      compliance: options.compliance,
      builtAt: clock(),
    });
  };

  const applyDelta = (previous: Snapshot, delta: ChangesSince): Snapshot => {
    if (delta.changes.length === 0) return previous;
    const next = applySnapshotChanges(previous, {
      version: delta.changeVersion,
      builtAt: clock(),
      policies: delta.policies,
      deletedPolicyIds: delta.deletedPolicyIds,
      regionIds: [...new Set(delta.changes.filter((c) => c.kind === "region").flatMap((c) => c.ids))],
      regionStatuses: delta.regionStatuses,
      overrides: delta.overrides ?? [],
    });
    const applied = clock();
    for (const change of delta.changes) options.observePropagationLag?.(Math.max(0, applied - change.committedAt) / 1000);
    return next;
  };

  /** Applies changes committed here while each is the next version; resolves undefined when none is. */
  const applyCommittedHere = (previous: Snapshot): Snapshot | undefined => {
    let next: Snapshot | undefined;
    for (let delta = committedHere.get(previous.version + 1); delta !== undefined; delta = committedHere.get(previous.version + 1)) {
      committedHere.delete(delta.changeVersion);
      // The write's commit is the store confirming this version: it held the counter at it, with nothing after.
      syncedAt = Math.max(syncedAt ?? 0, delta.changes[0]!.committedAt);
      next = previous = applyDelta(previous, delta);
    }
    return next;
  };

  const snapshots = createSnapshotHolder({
    logger,
    load: async () => {
      const readStarted = clock();
      if (!snapshots.loaded) return fullLoad(readStarted);
      // A change of this replica's own that is next needs no read, unless more has been announced after it.
      const local = applyCommittedHere(snapshots.current());
      if (local !== undefined && local.version >= highestAnnounced) return local;
      const previous = local ?? snapshots.current();
      const delta = await store.loadChangesSince(previous.version);
      if (delta === undefined) {
        fullReloads++;
        logger.warn({ snapshot_version: previous.version }, "the change log no longer reaches back to this snapshot; reloading everything");
        return fullLoad(readStarted);
      }
      syncedAt = readStarted;
      forgetApplied(delta.changeVersion);
      return applyDelta(previous, delta);
    },
  });

  const arm = (delayMs: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => void catchUp("silence"), delayMs);
    timer.unref();
  };

  const catchUp = (reason: string): Promise<Snapshot | undefined> => {
    if (stopped) return Promise.resolve(undefined);
    const run = snapshots.refresh().then(
      (snapshot) => {
        failures = 0;
        arm(options.maxStalenessMs);
        return snapshot;
      },
      (err: unknown) => {
        // The holder logged it and kept the last good snapshot; retry soon, then less and less often.
        failures++;
        arm(Math.min(options.maxStalenessMs, RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 8)));
        if (failures === 1) logger.warn({ reason, err: err instanceof Error ? err.message : String(err) }, "snapshot catch-up failed; retrying with backoff");
        return undefined;
      },
    );
    inFlight = run;
    return run;
  };

  const onEvent = (event: ChangeEvent): void => {
    const known = Math.max(highestAnnounced, snapshots.loaded ? snapshots.current().version : 0);
    if (event.version <= known) {
      highestAnnounced = known;
      return; // a duplicate, or already applied: several replicas may relay the same change
    }
    if (snapshots.loaded && event.version > known + 1) {
      gaps++;
      logger.info({ snapshot_version: snapshots.current().version, event_version: event.version }, "version gap on the bus; catching up from the store");
    }
    highestAnnounced = event.version;
    if (snapshots.loaded) void catchUp("event");
  };

  return {
    snapshots,

    async start() {
      await snapshots.refresh();
      failures = 0;
      arm(options.maxStalenessMs);
      // Events that arrived during the first load may name versions it does not hold.
      if (highestAnnounced > snapshots.current().version) void catchUp("events during start");
    },

    onCommitted(event, written) {
      const held = snapshots.loaded ? snapshots.current().version : 0;
      if (event.version > held) {
        committedHere.set(event.version, {
          changes: [{ version: event.version, kind: "policy", ids: [...event.ids], committedAt: written.committedAt }],
          policies: written.policies,
          deletedPolicyIds: written.deletedPolicyIds,
          regionStatuses: [],
          overrides: [],
          changeVersion: event.version,
        });
      }
      onEvent(event);
    },

    onEvent,

    catchUp,

    waitFor(version, timeoutMs) {
      if (snapshots.loaded && snapshots.current().version >= version) return Promise.resolve(true);
      const waiting = snapshots.waitForVersion(version, timeoutMs);
      if (snapshots.loaded) void catchUp("wait for version");
      return waiting;
    },

    get syncedAt() {
      return syncedAt;
    },
    get gaps() {
      return gaps;
    },
    get fullReloads() {
      return fullReloads;
    },

    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight?.catch(() => undefined);
    },
  };
}
