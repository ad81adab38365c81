import type { EmergencyOverride } from "../domain/emergency-override.js";
import type { StoredPolicy } from "../domain/policy.js";
import type { RegionStatusRecord } from "../store/policy-store.js";
import { assembleSnapshot, snapshotParts, type Snapshot } from "./snapshot.js";
import { makeTenantEntry, withLearnerChanges, type TenantEntry } from "./tenant-entry.js";

/** What changed between a snapshot and the next version (the store's ChangesSince, in snapshot terms). */
export interface SnapshotChanges {
  /** The version the new snapshot has. */
  readonly version: number;
  /** Epoch milliseconds. */
  readonly builtAt: number;
  /** Current state of every created or updated policy. */
  readonly policies: readonly StoredPolicy[];
  /** Policies that no longer exist (ids the previous snapshot never had are ignored). */
  readonly deletedPolicyIds: readonly string[];
  /** Regions whose status changed; one without a record in `regionStatuses` goes back to its catalog status. */
  readonly regionIds: readonly string[];
  readonly regionStatuses: readonly RegionStatusRecord[];
  /** Current state of every emergency override that changed; an ACTIVE one is (re)placed, any other removed. */
  readonly overrides?: readonly EmergencyOverride[];
}

/** Per touched tenant: its new tenant policy (null: deleted) and learner policies (null: deleted). */
interface TenantChange {
  tenant: StoredPolicy | null | undefined;
  readonly learners: Map<string, StoredPolicy | null>;
}

/**
 * The next snapshot from the previous one plus a delta. Only the touched tenants are merged again (all the
 * learners of a tenant whose own policy changed; just the changed learners otherwise); every other tenant's
 * entry is shared with the previous snapshot, which stays valid and unchanged.
 */
export function applySnapshotChanges(previous: Snapshot, changes: SnapshotChanges): Snapshot {
  const parts = snapshotParts(previous);
  if (parts === undefined) throw new Error("applySnapshotChanges needs a snapshot made by buildSnapshot or applySnapshotChanges");
  const { compliance } = parts;

  const touched = new Map<string, TenantChange>();
  const changeOf = (tenantId: string): TenantChange => {
    let change = touched.get(tenantId);
    if (change === undefined) {
      change = { tenant: undefined, learners: new Map() };
      touched.set(tenantId, change);
    }
    return change;
  };
  const policyTenantChanges: [string, string | undefined][] = [];
  // Deletions first: a learner whose policy was deleted and created again has a new policy id.
  for (const policyId of changes.deletedPolicyIds) {
    const tenantId = parts.policyTenants.get(policyId);
    if (tenantId === undefined) continue; // created and deleted after the previous snapshot
    policyTenantChanges.push([policyId, undefined]);
    const entry = parts.tenants.get(tenantId);
    if (entry?.tenantPolicy?.policyId === policyId) {
      changeOf(tenantId).tenant = null;
      continue;
    }
    for (const [learnerId, policy] of entry?.learnerPolicies ?? []) {
      if (policy.policyId === policyId) changeOf(tenantId).learners.set(learnerId, null);
    }
  }
  for (const policy of changes.policies) {
    if (parts.policyTenants.get(policy.policyId) === undefined) policyTenantChanges.push([policy.policyId, policy.tenantId]);
    const change = changeOf(policy.tenantId);
    if (policy.learnerId === "") change.tenant = policy;
    else change.learners.set(policy.learnerId, policy);
  }

  let policyCount = parts.policyCount;
  const tenantChanges: [string, TenantEntry | undefined][] = [];
  for (const [tenantId, change] of touched) {
    const before = parts.tenants.get(tenantId);
    const after = nextEntry(before, change, compliance);
    policyCount += (after?.policyCount ?? 0) - (before?.policyCount ?? 0);
    tenantChanges.push([tenantId, after]);
  }

  let regionStatuses = parts.regionStatuses;
  if (changes.regionIds.length > 0) {
    const next = new Map(regionStatuses);
    for (const regionId of changes.regionIds) next.delete(regionId);
    for (const record of changes.regionStatuses) next.set(record.regionId, record);
    regionStatuses = next;
  }

  return assembleSnapshot({
    ...parts,
    version: changes.version,
    builtAt: changes.builtAt,
    regionStatuses,
    overridesByTenant: withOverrideChanges(parts.overridesByTenant, changes.overrides ?? []),
    tenants: tenantChanges.length === 0 ? parts.tenants : parts.tenants.with(tenantChanges),
    policyTenants: policyTenantChanges.length === 0 ? parts.policyTenants : parts.policyTenants.with(policyTenantChanges),
    policyCount,
  });
}

/** The ACTIVE overrides by tenant after `changed`; untouched tenants share their lists with the previous snapshot. */
function withOverrideChanges(
  before: ReadonlyMap<string, readonly EmergencyOverride[]>,
  changed: readonly EmergencyOverride[],
): ReadonlyMap<string, readonly EmergencyOverride[]> {
  if (changed.length === 0) return before;
  const next = new Map(before);
  for (const override of changed) {
    const kept = (next.get(override.tenantId) ?? []).filter((o) => o.overrideId !== override.overrideId);
    if (override.status === "ACTIVE") kept.push(Object.freeze(override));
    if (kept.length === 0) next.delete(override.tenantId);
    else next.set(override.tenantId, Object.freeze(kept));
  }
  return next;
}

function nextEntry(
  before: TenantEntry | undefined,
  change: TenantChange,
  compliance: Parameters<typeof makeTenantEntry>[2],
): TenantEntry | undefined {
  if (before !== undefined && change.tenant === undefined) {
    // The tenant policy stayed: reuse every other learner's merged policy.
    const learners = new Map<string, StoredPolicy | undefined>();
    for (const [learnerId, policy] of change.learners) learners.set(learnerId, policy ?? undefined);
    return withLearnerChanges(before, learners, compliance);
  }
  // A new tenant, or its own policy changed: every learner inherits from it, so all are merged again.
  const tenantPolicy = change.tenant === undefined ? before?.tenantPolicy : (change.tenant ?? undefined);
  const learnerPolicies = new Map(before?.learnerPolicies);
  for (const [learnerId, policy] of change.learners) {
    if (policy === null) learnerPolicies.delete(learnerId);
    else learnerPolicies.set(learnerId, policy);
  }
  return makeTenantEntry(tenantPolicy, learnerPolicies, compliance);
}
