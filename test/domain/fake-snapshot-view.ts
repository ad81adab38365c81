import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import { mergeEffectivePolicy } from "../../src/domain/effective-policy.js";
import { EMPTY_POLICY_FIELDS, type EffectivePolicy, type PolicyFields, type StoredPolicy } from "../../src/domain/policy.js";
import type { ComplianceSettings } from "../../src/domain/frameworks/compliance-settings.js";
import type { EmergencyOverride } from "../../src/domain/emergency-override.js";
import type { Region } from "../../src/domain/region.js";
import type { SnapshotView } from "../../src/domain/snapshot-view.js";
import type { RegionStatus } from "../../src/domain/vocabulary.js";

export interface FakeSnapshotOptions {
  readonly defaultRegion?: string;
  /** The catalog; DEFAULT_REGIONS when absent. */
  readonly regions?: readonly Region[];
  /** Region id → status (and optional reason), applied over the catalog's (HEALTHY by default). */
  readonly statuses?: Readonly<Record<string, RegionStatus | readonly [RegionStatus, string]>>;
  /** Passed to mergeEffectivePolicy (the COPPA retention cap). */
  readonly settings?: Partial<ComplianceSettings>;
  /** Emergency overrides, any status (the view hands out the ACTIVE ones, as the snapshot does). */
  readonly overrides?: readonly EmergencyOverride[];
}

/**
 * A SnapshotView for domain tests: merges the given policies the way the snapshot does (a learner
 * without its own policy gets its tenant's; a learner-only policy covers that learner alone).
 */
export function fakeSnapshotView(
  policies: readonly StoredPolicy[],
  options: FakeSnapshotOptions = {},
): SnapshotView {
  const regions = withStatuses(options.regions ?? DEFAULT_REGIONS, options.statuses ?? {});
  const regionById = new Map(regions.map((r) => [r.id, r] as const));
  const tenants = new Map<string, StoredPolicy>();
  for (const p of policies) if (p.learnerId === "") tenants.set(p.tenantId, p);
  const merged = new Map<string, EffectivePolicy>();
  for (const p of policies) {
    const key = `${p.tenantId}\u0000${p.learnerId}`;
    const tenant = p.learnerId === "" ? p : tenants.get(p.tenantId);
    merged.set(key, mergeEffectivePolicy(tenant, p.learnerId === "" ? undefined : p, options.settings));
  }
  return {
    version: 1,
    regions,
    region: (id) => regionById.get(id),
    defaultRegion: options.defaultRegion,
    overridesFor: (tenantId) => (options.overrides ?? []).filter((o) => o.tenantId === tenantId && o.status === "ACTIVE"),
    effectivePolicy(tenantId, learnerId) {
      return merged.get(`${tenantId}\u0000${learnerId}`) ?? merged.get(`${tenantId}\u0000`);
    },
  };
}

/** A status change builds a new Region, as the snapshot does. */
function withStatuses(
  regions: readonly Region[],
  statuses: Readonly<Record<string, RegionStatus | readonly [RegionStatus, string]>>,
): readonly Region[] {
  return regions.map((r) => {
    const status = statuses[r.id];
    if (status === undefined) return r;
    const [value, reason] = typeof status === "string" ? [status, ""] : status;
    return { ...r, status: value, statusReason: reason, statusUpdatedAt: 1 };
  });
}

/** The catalog with some regions' fields replaced (e.g. their inference providers). */
export function catalogWith(overrides: Readonly<Record<string, Partial<Region>>>, base: readonly Region[] = DEFAULT_REGIONS): Region[] {
  return base.map((r) => (overrides[r.id] === undefined ? r : { ...r, ...overrides[r.id] }));
}


/** Policy fields with everything unset except what is given. */
export function fields(overrides: Partial<PolicyFields>): PolicyFields {
  return { ...EMPTY_POLICY_FIELDS, ...overrides };
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
