import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import { mergeEffectivePolicy } from "../../src/domain/effective-policy.js";
import type { EffectivePolicy, PolicyFields, StoredPolicy } from "../../src/domain/policy.js";
import type { Region } from "../../src/domain/region.js";
import type { SnapshotView } from "../../src/domain/snapshot-view.js";

/**
 * A SnapshotView for domain tests: merges the given policies the way the snapshot does (a learner
 * without its own policy gets its tenant's; a learner-only policy covers that learner alone).
 */
export function fakeSnapshotView(
  policies: readonly StoredPolicy[],
  options: { defaultRegion?: string; regions?: readonly Region[] } = {},
): SnapshotView {
  const regions = options.regions ?? DEFAULT_REGIONS;
  const regionById = new Map(regions.map((r) => [r.id, r] as const));
  const tenants = new Map<string, StoredPolicy>();
  for (const p of policies) if (p.learnerId === "") tenants.set(p.tenantId, p);
  const merged = new Map<string, EffectivePolicy>();
  for (const p of policies) {
    const key = `${p.tenantId}\u0000${p.learnerId}`;
    merged.set(key, p.learnerId === "" ? mergeEffectivePolicy(p, undefined) : mergeEffectivePolicy(tenants.get(p.tenantId), p));
  }
  return {
    version: 1,
    regions,
    region: (id) => regionById.get(id),
    defaultRegion: options.defaultRegion,
    effectivePolicy(tenantId, learnerId) {
      return merged.get(`${tenantId}\u0000${learnerId}`) ?? merged.get(`${tenantId}\u0000`);
    },
  };
}

const EMPTY_FIELDS: PolicyFields = {
  tenantId: "",
  learnerId: "",
  primaryRegion: "",
  allowedRegions: [],
  prohibitedRegions: [],
  complianceFrameworks: [],
  dataClassification: undefined,
  allowCrossRegionFailover: undefined,
  dataRetentionDays: undefined,
  emergencyContact: "",
  ageBand: undefined,
  transferSafeguards: [],
  inferenceProviders: [],
};

/** Policy fields with everything unset except what is given. */
export function fields(overrides: Partial<PolicyFields>): PolicyFields {
  return { ...EMPTY_FIELDS, ...overrides };
}

/** A stored policy; the id defaults to "pol-<tenant>" or "pol-<tenant>-<learner>". */
export function stored(overrides: Partial<StoredPolicy>): StoredPolicy {
  const f = fields(overrides);
  return {
    ...f,
    policyId: overrides.policyId ?? (f.learnerId === "" ? `pol-${f.tenantId}` : `pol-${f.tenantId}-${f.learnerId}`),
    version: overrides.version ?? 1,
    createdAt: 0,
    updatedAt: 0,
    createdBy: "test",
    updatedBy: "test",
  };
}
