import type { PolicyFields, StoredPolicy } from "../domain/policy.js";

/** Who and when, for every write. */
export interface WriteMeta {
  readonly actor: string;
  /** Epoch milliseconds. */
  readonly now: number;
}

/** A committed change: the store's change counter after it, which becomes the snapshot version. */
export interface Committed<T> {
  readonly value: T;
  readonly changeVersion: number;
}

/** Everything the snapshot is built from, read in one consistent transaction. */
export interface SnapshotData {
  /** Current versions of every policy. */
  readonly policies: readonly StoredPolicy[];
  /** The store's change counter at the time of the read. */
  readonly changeVersion: number;
}

export interface ListPoliciesQuery {
  /** Empty: every tenant. */
  readonly tenantId: string;
  readonly limit: number;
  /** Keyset cursor: list policies ordered after this (tenantId, learnerId) pair. */
  readonly after: { readonly tenantId: string; readonly learnerId: string } | undefined;
}

/**
 * Durable policy storage. Two implementations share one test suite: SQLite (embedded default) and
 * Postgres (production). Every write is one transaction that also advances the change counter, so a
 * snapshot version names exactly one committed state.
 *
 * Errors: NotFoundError, AlreadyExistsError (one policy per tenant and per learner),
 * VersionConflictError (expected version is stale), UnavailableError (the database is unreachable).
 */
export interface PolicyStore {
  /** Creates tables (SQLite) or checks migrations (Postgres). */
  open(): Promise<void>;
  close(): Promise<void>;
  loadSnapshotData(): Promise<SnapshotData>;
  createPolicy(fields: PolicyFields, meta: WriteMeta): Promise<Committed<StoredPolicy>>;
  /** version undefined = current; an older version comes from the policy's history. */
  getPolicy(policyId: string, version?: number): Promise<StoredPolicy | undefined>;
  /** Ordered by (tenantId, learnerId); the tenant's own policy (learnerId "") comes first. */
  listPolicies(query: ListPoliciesQuery): Promise<StoredPolicy[]>;
  updatePolicy(
    policyId: string,
    fields: PolicyFields,
    expectedVersion: number,
    meta: WriteMeta,
  ): Promise<Committed<StoredPolicy>>;
  deletePolicy(policyId: string, expectedVersion: number, meta: WriteMeta): Promise<Committed<StoredPolicy>>;
}
