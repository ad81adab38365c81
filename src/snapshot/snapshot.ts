import type { ComplianceSettings } from "../domain/frameworks/compliance-settings.js";
import type { EmergencyOverride } from "../domain/emergency-override.js";
import type { EffectivePolicy, StoredPolicy } from "../domain/policy.js";
import type { Region } from "../domain/region.js";
import type { SnapshotView } from "../domain/snapshot-view.js";
import type { RegionStatusRecord } from "../store/policy-store.js";
import { layeredMap, type LayeredMap } from "./layered-map.js";
import { makeTenantEntry, type TenantEntry } from "./tenant-entry.js";

/** An immutable, versioned view of every policy and region, built once per committed change. */
export interface Snapshot extends SnapshotView {
  /** Epoch milliseconds when it was built. */
  readonly builtAt: number;
  readonly policyCount: number;
  /** The tenants with at least one policy, sorted. */
  readonly tenantIds: readonly string[];
}

export interface SnapshotInput {
  readonly version: number;
  /** The catalog, in order. */
  readonly regions: readonly Region[];
  /** Operator-set statuses that override the catalog's. */
  readonly regionStatuses?: readonly RegionStatusRecord[];
  /** Emergency overrides; only ACTIVE ones are kept (expiry is checked per decision). */
  readonly overrides?: readonly EmergencyOverride[];
  readonly policies: readonly StoredPolicy[];
  readonly defaultRegion: string | undefined;
  /** Settings of the framework rules (the COPPA retention cap); defaults apply when absent. */
  readonly compliance?: Partial<ComplianceSettings>;
  readonly builtAt: number;
}

const NO_OVERRIDES: readonly EmergencyOverride[] = Object.freeze([]);

/** What a snapshot is made of; an incremental build (apply-snapshot-changes.ts) starts from the previous one's. */
export interface SnapshotParts {
  readonly version: number;
  readonly builtAt: number;
  /** The catalog, in order. */
  readonly catalog: readonly Region[];
  /** Operator-set statuses over the catalog, by region id. */
  readonly regionStatuses: ReadonlyMap<string, RegionStatusRecord>;
  readonly defaultRegion: string | undefined;
  readonly compliance: Partial<ComplianceSettings> | undefined;
  readonly tenants: LayeredMap<string, TenantEntry>;
  /** The tenant of every policy, so that a deletion (known by policy id only) finds its tenant. */
  readonly policyTenants: LayeredMap<string, string>;
  readonly policyCount: number;
  /** ACTIVE emergency overrides by tenant. */
  readonly overridesByTenant: ReadonlyMap<string, readonly EmergencyOverride[]>;
}

/** A side table rather than a field, so that handlers see only the Snapshot interface. */
const partsOf = new WeakMap<Snapshot, SnapshotParts>();

/** The parts a snapshot was assembled from (every snapshot made by this module has them). */
export function snapshotParts(snapshot: Snapshot): SnapshotParts | undefined {
  return partsOf.get(snapshot);
}

/**
 * A full build: merges every learner policy with its tenant's now, so that a decision is two Map lookups and no
 * merging. Objects are frozen so no caller can change a snapshot another request is reading.
 */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const byTenant = new Map<string, { tenant: StoredPolicy | undefined; learners: Map<string, StoredPolicy> }>();
  const policyTenants = new Map<string, string>();
  for (const policy of input.policies) {
    let group = byTenant.get(policy.tenantId);
    if (group === undefined) {
      group = { tenant: undefined, learners: new Map() };
      byTenant.set(policy.tenantId, group);
    }
    if (policy.learnerId === "") group.tenant = policy;
    else group.learners.set(policy.learnerId, policy);
    policyTenants.set(policy.policyId, policy.tenantId);
  }
  const tenants = new Map<string, TenantEntry>();
  for (const [tenantId, group] of byTenant) {
    const entry = makeTenantEntry(group.tenant, group.learners, input.compliance);
    if (entry !== undefined) tenants.set(tenantId, entry);
  }

  const overridesByTenant = new Map<string, EmergencyOverride[]>();
  for (const override of input.overrides ?? []) {
    if (override.status !== "ACTIVE") continue;
    const list = overridesByTenant.get(override.tenantId) ?? [];
    list.push(Object.freeze(override));
    overridesByTenant.set(override.tenantId, list);
  }
  return assembleSnapshot({
    version: input.version,
    builtAt: input.builtAt,
    catalog: input.regions,
    regionStatuses: new Map((input.regionStatuses ?? []).map((s) => [s.regionId, s] as const)),
    defaultRegion: input.defaultRegion,
    compliance: input.compliance,
    tenants: layeredMap(tenants),
    policyTenants: layeredMap(policyTenants),
    policyCount: input.policies.length,
    overridesByTenant,
  });
}

/** The frozen Snapshot over its parts; both the full and the incremental build end here. */
export function assembleSnapshot(parts: SnapshotParts): Snapshot {
  const regionById = new Map(
    parts.catalog.map((catalogRegion) => {
      const set = parts.regionStatuses.get(catalogRegion.id);
      const region: Region = set
        ? { ...catalogRegion, status: set.status, statusReason: set.reason, statusUpdatedAt: set.updatedAt }
        : catalogRegion;
      return [region.id, Object.freeze(region)] as const;
    }),
  );
  const regions = Object.freeze([...regionById.values()]);
  const { tenants, overridesByTenant } = parts;
  let tenantIds: readonly string[] | undefined;
  const snapshot: Snapshot = Object.freeze({
    version: parts.version,
    builtAt: parts.builtAt,
    policyCount: parts.policyCount,
    // Sorted on first use only: a delta must not pay O(n log n) for a list decisions never read.
    get tenantIds() {
      return (tenantIds ??= Object.freeze([...tenants.keys()].sort()));
    },
    regions,
    defaultRegion: parts.defaultRegion,
    region: (id: string) => regionById.get(id),
    overridesFor: (tenantId: string) => overridesByTenant.get(tenantId) ?? NO_OVERRIDES,
    effectivePolicy(tenantId: string, learnerId: string): EffectivePolicy | undefined {
      const found = tenants.get(tenantId);
      if (found === undefined) return undefined;
      if (learnerId === "") return found.tenant;
      return found.learners.get(learnerId) ?? found.tenant;
    },
  });
  partsOf.set(snapshot, parts);
  return snapshot;
}
