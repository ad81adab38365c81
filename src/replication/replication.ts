import type { ChangeEvent } from "../bus/change-bus.js";
import type { Config } from "../config.js";
import type { Region } from "../domain/region.js";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import type { AuditStore } from "../store/audit-store.js";
import type { PolicyStore } from "../store/policy-store.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { selectChangeBus, type BusKind } from "./select-change-bus.js";
import { selectPolicyStore, type StoreKind } from "./select-policy-store.js";
import { createSnapshotSync, type WrittenPolicies } from "./snapshot-sync.js";

export interface ReplicationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type ReplicationConfig = Pick<
  Config,
  | "databaseUrl"
  | "runMigrations"
  | "dataDir"
  | "redisUrl"
  | "redisChannel"
  | "snapshotMaxStalenessMs"
  | "minSnapshotWaitMs"
  | "outboxRelayIntervalMs"
  | "defaultRegion"
  | "coppaRetentionCapDays"
>;

export interface ReplicationOptions {
  readonly config: ReplicationConfig;
  readonly regions: readonly Region[];
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly logger: ReplicationLogger;
  /** Wraps the selected store (tracing). */
  readonly decorateStore?: (store: PolicyStore, kind: StoreKind) => PolicyStore;
  /** Seconds from a change's commit to this replica deciding with it. */
  readonly observePropagationLag?: (seconds: number) => void;
  /** How long a write waits for this replica's snapshot to include it before answering anyway. @default 5000 */
  readonly readYourWritesTimeoutMs?: number;
}

export interface ReplicationStatus {
  readonly store: StoreKind;
  readonly bus: BusKind;
  readonly busConnected: boolean;
  /** Epoch milliseconds when the store last confirmed this replica's snapshot current. */
  readonly syncedAt: number | undefined;
  /** No confirmation from the store for twice the staleness bound (it is unreachable): decisions go on regardless. */
  readonly stale: boolean;
  /** Version gaps seen on the bus (each triggered a catch-up). */
  readonly gaps: number;
}

/** The store, the bus and what keeps them and this replica's snapshot in step; server.ts builds it from the config. */
export interface Replication {
  readonly store: PolicyStore;
  /** The audit log's storage: the same database as `store` (opened and closed with it), undecorated. */
  readonly auditStore: AuditStore;
  readonly snapshots: SnapshotHolder;
  /**
   * For the write services, after a commit: publishes the change and resolves once this replica decides with it.
   * With `written` (a policy write's stored result), this replica applies the change without reading it back.
   */
  announce(change: ChangeEvent, written?: WrittenPolicies): Promise<void>;
  /**
   * For min_snapshot_version: resolves true once this replica decides with `version`, catching up from the store
   * meanwhile; false after MIN_SNAPSHOT_WAIT_MS. Callers check the current version first (no await on that path).
   */
  awaitVersion(version: number): Promise<boolean>;
  status(): ReplicationStatus;
  /** Opens the store (migrating Postgres), connects the bus, loads the first snapshot, starts the outbox relay. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createReplication(options: ReplicationOptions): Replication {
  const { config, logger } = options;
  const selected = selectPolicyStore(config);
  const store = options.decorateStore?.(selected.store, selected.kind) ?? selected.store;
  const { bus, kind: busKind } = selectChangeBus(config, logger);
  const readYourWritesTimeoutMs = options.readYourWritesTimeoutMs ?? 5_000;

  const sync = createSnapshotSync({
    store,
    regions: options.regions,
    defaultRegion: config.defaultRegion,
    compliance: { coppaRetentionCapDays: config.coppaRetentionCapDays },
    clock: options.clock,
    logger,
    maxStalenessMs: config.snapshotMaxStalenessMs,
    observePropagationLag: options.observePropagationLag,
  });
  const relay = createOutboxRelay({ store, bus, logger, intervalMs: config.outboxRelayIntervalMs });
  const { snapshots } = sync;

  let started = false;
  let opened = false;
  bus.subscribe((event) => sync.onEvent(event));
  bus.onConnected(() => {
    if (!started) return; // start() catches up and drains once the first snapshot is in
    void sync.catchUp("bus connected");
    void relay.drain("bus connected");
  });

  return {
    store,
    auditStore: selected.store,
    snapshots,

    async announce(change, written) {
      // Published first, so the other replicas hear of it while this one applies it. Not awaited: the answer need
      // not wait for Redis, and a failed publish is left in the outbox for the relay (which also tracks this one
      // until stop()).
      void relay.publishCommitted(change);
      // This replica knows the change is committed: its own echo from the bus is then a duplicate.
      if (written === undefined) sync.onEvent(change);
      else sync.onCommitted(change, written);
      const current = await snapshots.waitForVersion(change.version, readYourWritesTimeoutMs);
      if (!current) logger.warn({ snapshot_version: change.version }, "committed change not yet in this replica's snapshot");
    },

    awaitVersion: (version) => sync.waitFor(version, config.minSnapshotWaitMs),

    status: () => ({
      store: selected.kind,
      bus: busKind,
      busConnected: bus.connected,
      syncedAt: sync.syncedAt,
      stale: sync.syncedAt === undefined || options.clock() - sync.syncedAt > 2 * config.snapshotMaxStalenessMs,
      gaps: sync.gaps,
    }),

    async start() {
      await store.open();
      opened = true;
      try {
        await bus.start();
        await sync.start();
      } catch (err) {
        // No first snapshot (the store failed the read): leave nothing connected behind.
        await bus.close();
        await store.close();
        opened = false;
        throw err;
      }
      started = true;
      // Whatever was committed between the first load and the subscription taking effect.
      void sync.catchUp("start");
      relay.start();
      void relay.drain("start");
    },

    async stop() {
      await relay.stop();
      await sync.stop();
      await bus.close();
      if (opened) await store.close();
    },
  };
}
