import type { ComplianceSettings } from "../domain/frameworks/compliance-settings.js";
import { mergeEffectivePolicy } from "../domain/effective-policy.js";
import type { EmergencyOverride } from "../domain/emergency-override.js";
import type { EffectivePolicy, StoredPolicy } from "../domain/policy.js";
import type { Region } from "../domain/region.js";
import type { SnapshotView } from "../domain/snapshot-view.js";
import type { RegionStatusRecord } from "../store/policy-store.js";

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

interface TenantEntry {
  /** Effective policy for tenant-level data and for learners without a policy of their own. */
  tenant: EffectivePolicy | undefined;
  readonly learners: Map<string, EffectivePolicy>;
}

/**
 * Merges every learner policy with its tenant's now, so that a decision is two Map lookups and no
 * merging. Objects are frozen so no caller can change a snapshot another request is reading.
 */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const tenantPolicies = new Map<string, StoredPolicy>();
  const learnerPolicies: StoredPolicy[] = [];
  for (const policy of input.policies) {
    if (policy.learnerId === "") tenantPolicies.set(policy.tenantId, policy);
    else learnerPolicies.push(policy);
  }

  const tenants = new Map<string, TenantEntry>();
  const entry = (tenantId: string): TenantEntry => {
    let found = tenants.get(tenantId);
    if (found === undefined) {
      found = { tenant: undefined, learners: new Map() };
      tenants.set(tenantId, found);
    }
    return found;
  };
  for (const [tenantId, policy] of tenantPolicies) {
    entry(tenantId).tenant = Object.freeze(mergeEffectivePolicy(policy, undefined, input.compliance));
  }
  for (const policy of learnerPolicies) {
    const merged = mergeEffectivePolicy(tenantPolicies.get(policy.tenantId), policy, input.compliance);
    entry(policy.tenantId).learners.set(policy.learnerId, Object.freeze(merged));
  }

  const statusById = new Map((input.regionStatuses ?? []).map((s) => [s.regionId, s] as const));
  const regionById = new Map(
    input.regions.map((catalogRegion) => {
      const set = statusById.get(catalogRegion.id);
      const region: Region = set
        ? { ...catalogRegion, status: set.status, statusReason: set.reason, statusUpdatedAt: set.updatedAt }
        : catalogRegion;
      return [region.id, Object.freeze(region)] as const;
    }),
  );
  const regions = Object.freeze([...regionById.values()]);
  const overridesByTenant = new Map<string, EmergencyOverride[]>();
  for (const override of input.overrides ?? []) {
    if (override.status !== "ACTIVE") continue;
    const list = overridesByTenant.get(override.tenantId) ?? [];
    list.push(Object.freeze(override));
    overridesByTenant.set(override.tenantId, list);
  }
  return Object.freeze({
    version: input.version,
    builtAt: input.builtAt,
    policyCount: input.policies.length,
    tenantIds: Object.freeze([...tenants.keys()].sort()),
    regions,
    defaultRegion: input.defaultRegion,
    region: (id: string) => regionById.get(id),
    overridesFor: (tenantId: string) => overridesByTenant.get(tenantId) ?? NO_OVERRIDES,
    effectivePolicy(tenantId: string, learnerId: string): EffectivePolicy | undefined {
      const found = tenants.get(tenantId);
      if (found === undefined) return undefined;
      if (learnerId === "") return found.tenant;
      return found.learners.get(learnerId) ?? found.tenant;
    },
  });
}
