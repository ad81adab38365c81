import type { EmergencyOverride, OverrideStatus } from "../domain/emergency-override.js";
import type { OverrideStatusChange } from "../domain/override-rules.js";
import type { PolicyFields, StoredPolicy } from "../domain/policy.js";
import type { RegionStatus } from "../domain/vocabulary.js";

/** Who and when, for every write. */
export interface WriteMeta {
  readonly actor: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** The caller's X-Request-ID, recorded with the change's audit event. */
  readonly requestId?: string;
}

/**
 * Who makes a write: the actor, or the actor with the caller's X-Request-ID when the write came through the
 * API (the request id is recorded with the write's audit event).
 */
export type WriteAuthor = string | { readonly actor: string; readonly requestId: string };

/** The WriteMeta of a write by `author` at `now`. */
export function writeMeta(author: WriteAuthor, now: number): WriteMeta {
  return typeof author === "string" ? { actor: author, now } : { actor: author.actor, now, requestId: author.requestId };
}

/**
 * What a policy write is checked against: read inside the write's transaction, after the change counter's lock has
 * serialised it with every other write, so it is exactly the state the write commits on (and one round trip with
 * the write's own statements rather than reads of their own before it).
 */
export interface PolicyWriteState {
  /** The policy written as it stands: for a create, the one already holding its tenant and learner; undefined when none. */
  readonly current: StoredPolicy | undefined;
  /** The tenant's own policy, when the tenant has one. */
  readonly tenantPolicy: StoredPolicy | undefined;
  /** Every learner policy of the tenant when an update or delete targets the tenant's own policy; otherwise empty. */
  readonly learnerPolicies: readonly StoredPolicy[];
}

/**
 * A caller's rules for one policy write (validation, visibility). It throws to refuse the write, and nothing is
 * written; it runs before the store's own checks (missing policy, existing policy, stale version).
 */
export type PolicyWriteCheck = (state: PolicyWriteState) => void;

/** A committed change: the store's change counter after it, which becomes the snapshot version. */
export interface Committed<T> {
  readonly value: T;
  readonly changeVersion: number;
}

/** What a committed change touched; one row per change version (the outbox and the change log). */
export type ChangeKind = "policy" | "region" | "override";

export interface ChangeRecord {
  /** The change counter value this change produced. */
  readonly version: number;
  readonly kind: ChangeKind;
  /** Policy ids for "policy", region ids for "region", override ids for "override". */
  readonly ids: readonly string[];
  /** Epoch milliseconds of the commit. */
  readonly committedAt: number;
}

/** A region status set by an operator; regions without one keep their catalog status. */
export interface RegionStatusRecord {
  readonly regionId: string;
  readonly status: RegionStatus;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** What changed after a version: enough to update a snapshot without a full reload. */
export interface ChangesSince {
  /** In version order, without gaps, from `since + 1` to `changeVersion` (possibly empty). */
  readonly changes: readonly ChangeRecord[];
  /** Current state of every policy named by the changes that still exists. */
  readonly policies: readonly StoredPolicy[];
  /** Policies named by the changes that no longer exist. */
  readonly deletedPolicyIds: readonly string[];
  /** Current status records of every region named by the changes. */
  readonly regionStatuses: readonly RegionStatusRecord[];
  /** Current state of every emergency override named by the changes (overrides are never deleted). Absent: none. */
  readonly overrides?: readonly EmergencyOverride[];
  readonly changeVersion: number;
}

/** Everything the snapshot is built from, read in one consistent transaction. */
export interface SnapshotData {
  /** Current versions of every policy. */
  readonly policies: readonly StoredPolicy[];
  /** Operator-set region statuses. */
  readonly regionStatuses: readonly RegionStatusRecord[];
  /** The ACTIVE emergency overrides (expiry is checked per decision). Absent: none. */
  readonly overrides?: readonly EmergencyOverride[];
  /** The store's change counter at the time of the read. */
  readonly changeVersion: number;
}

export interface ListPoliciesQuery {
  /** Empty: every tenant (of `tenantIn`, when given). */
  readonly tenantId: string;
  /** Only these tenants (the caller's, for a scoped caller); empty: none at all. Undefined: no restriction. */
  readonly tenantIn?: readonly string[] | undefined;
  readonly limit: number;
  /** Keyset cursor: list policies ordered after this (tenantId, learnerId) pair. */
  readonly after: { readonly tenantId: string; readonly learnerId: string } | undefined;
}

/** A new emergency override: PENDING, or ACTIVE at once when no approval is required. The store assigns the id. */
export type NewEmergencyOverride = Omit<EmergencyOverride, "overrideId" | "usageCount" | "lastUsedAt">;

export interface ListOverridesQuery {
  /** Empty: every tenant (of `tenantIn`, when given). */
  readonly tenantId: string;
  /** Only these tenants (the caller's, for a scoped caller); empty: none at all. Undefined: no restriction. */
  readonly tenantIn?: readonly string[] | undefined;
  /** False: PENDING and ACTIVE only. */
  readonly includeInactive: boolean;
  readonly limit: number;
  /** Keyset cursor: list overrides ordered after this one (newest first: requestedAt, then overrideId, descending). */
  readonly after: { readonly requestedAt: number; readonly overrideId: string } | undefined;
}

/** Decisions an override allowed since the last flush of one replica's usage counter. */
export interface OverrideUsage {
  readonly overrideId: string;
  readonly count: number;
  /** Epoch milliseconds of the latest of those decisions. */
  readonly lastUsedAt: number;
}

/**
 * Durable policy storage. Two implementations share one test suite: SQLite (embedded default) and
 * Postgres (production). Every write is one transaction that also advances the change counter, so a
 * snapshot version names exactly one committed state, and appends the write's event to the audit chain
 * (audit-store.ts), so a change and its audit event commit together.
 *
 * Errors: NotFoundError, AlreadyExistsError (one policy per tenant and per learner),
 * VersionConflictError (expected version is stale), UnavailableError (the database is unreachable).
 */
export interface PolicyStore {
  /** Creates tables (SQLite) or checks migrations (Postgres). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** A cheap round trip to the database, for health checks; UnavailableError when it fails. */
  ping(): Promise<void>;
  loadSnapshotData(): Promise<SnapshotData>;
  createPolicy(fields: PolicyFields, meta: WriteMeta, check?: PolicyWriteCheck): Promise<Committed<StoredPolicy>>;
  /** version undefined = current; an older version comes from the policy's history. */
  getPolicy(policyId: string, version?: number): Promise<StoredPolicy | undefined>;
  /** Ordered by (tenantId, learnerId); the tenant's own policy (learnerId "") comes first. */
  listPolicies(query: ListPoliciesQuery): Promise<StoredPolicy[]>;
  updatePolicy(
    policyId: string,
    fields: PolicyFields,
    expectedVersion: number,
    meta: WriteMeta,
    check?: PolicyWriteCheck,
  ): Promise<Committed<StoredPolicy>>;
  deletePolicy(
    policyId: string,
    expectedVersion: number,
    meta: WriteMeta,
    check?: PolicyWriteCheck,
  ): Promise<Committed<StoredPolicy>>;
  /** Records a region's status (the region id is checked by the caller against the catalog). */
  setRegionStatus(
    regionId: string,
    status: RegionStatus,
    reason: string,
    meta: WriteMeta,
  ): Promise<Committed<RegionStatusRecord>>;
  /** Stores a new emergency override (change kind "override"; audit: requested, and approved when ACTIVE). */
  createOverride(override: NewEmergencyOverride, meta: WriteMeta): Promise<Committed<EmergencyOverride>>;
  getOverride(overrideId: string): Promise<EmergencyOverride | undefined>;
  /** Newest first (requestedAt, then overrideId, descending). */
  listOverrides(query: ListOverridesQuery): Promise<EmergencyOverride[]>;
  /**
   * Moves an override from `expected` to `change.status` (audit: approved, rejected, revoked or expired), only if it
   * is still `expected`: of two concurrent transitions exactly one wins, the other fails with FailedPreconditionError
   * naming the status it found. NotFoundError for an unknown id. `note` (an approver's comment) goes into the
   * transition's audit event only.
   */
  transitionOverride(
    overrideId: string,
    expected: OverrideStatus,
    change: OverrideStatusChange,
    meta: WriteMeta,
    note?: string,
  ): Promise<Committed<EmergencyOverride>>;
  /**
   * Adds decisions counted in memory to usage_count and moves last_used_at forward; unknown ids are skipped.
   * Resolves with the number of overrides updated. Not a change of the snapshot (no decision depends on usage):
   * it neither advances the change counter nor writes a change-log row, so a replica's periodic flush does not
   * move every replica's snapshot version.
   */
  addOverrideUsage(usage: readonly OverrideUsage[]): Promise<number>;
  /**
   * Changes committed after `since`. Used by replicas to apply deltas in version order. When the change
   * log no longer reaches back to `since` it returns undefined: the caller reloads everything.
   */
  loadChangesSince(since: number): Promise<ChangesSince | undefined>;
  /** Outbox: committed changes not yet published to the bus, oldest first. */
  unpublishedChanges(limit: number): Promise<ChangeRecord[]>;
  /** Outbox: marks changes as published (idempotent). */
  markPublished(versions: readonly number[]): Promise<void>;
}
