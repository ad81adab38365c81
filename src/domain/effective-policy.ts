import { complianceProfile, EMPTY_COMPLIANCE_PROFILE } from "./compliance-profile.js";
import { complianceSettings, type ComplianceSettings } from "./frameworks/compliance-settings.js";
import { retentionInForce } from "./frameworks/framework-registry.js";
import type { EffectivePolicy, MergedPolicyFields, PolicyFields, PolicySource, StoredPolicy } from "./policy.js";
import type { Framework } from "./vocabulary.js";

// Shared by every policy that has nothing in the list, so the default-region policy built per request
// allocates no sets. Typed read-only; nothing in domain/ mutates a policy's sets.
const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_SET: ReadonlySet<never> = new Set<never>();

/**
 * The inheritance rules: a learner's unset fields (empty strings, empty lists, undefined optionals) come
 * from its tenant's policy; prohibited regions and frameworks are unions (tenant's first); retention is
 * the smaller of the two; an UNDER_13 learner gets COPPA. Either argument may be missing (a tenant-level
 * merge, or a learner policy whose tenant has none). Also used by write-time validation, so that the
 * framework rules judge exactly what a decision will use.
 */
export function mergePolicyFields(
  tenant: PolicyFields | undefined,
  learner: PolicyFields | undefined,
): MergedPolicyFields {
  const ageBand = learner?.ageBand ?? tenant?.ageBand;
  const written = union(tenant?.complianceFrameworks, learner?.complianceFrameworks);
  const coppaAddedForAge = ageBand === "UNDER_13" && !written.includes("COPPA");
  const complianceFrameworks: readonly Framework[] = coppaAddedForAge ? [...written, "COPPA"] : written;
  return {
    primaryRegion: learner?.primaryRegion || tenant?.primaryRegion || "",
    allowedRegions: inheritList(tenant?.allowedRegions, learner?.allowedRegions),
    prohibitedRegions: union(tenant?.prohibitedRegions, learner?.prohibitedRegions),
    complianceFrameworks,
    coppaAddedForAge,
    dataClassification: learner?.dataClassification ?? tenant?.dataClassification ?? "PERSONAL",
    allowCrossRegionFailover: learner?.allowCrossRegionFailover ?? tenant?.allowCrossRegionFailover ?? false,
    dataRetentionDays: smaller(tenant?.dataRetentionDays, learner?.dataRetentionDays),
    emergencyContact: learner?.emergencyContact || tenant?.emergencyContact || "",
    ageBand,
    transferSafeguards: inheritList(tenant?.transferSafeguards, learner?.transferSafeguards),
    inferenceProviders: inheritList(tenant?.inferenceProviders, learner?.inferenceProviders),
  };
}

/**
 * The effective policy a decision uses: mergePolicyFields, plus the retention in force and the
 * obligations of the frameworks (COPPA caps retention at `settings.coppaRetentionCapDays`, default 365),
 * plus everything decide() precomputes. Either argument may be missing, not both.
 *
 * Throws RangeError for an invalid COPPA cap (a configuration error).
 */
export function mergeEffectivePolicy(
  tenant: StoredPolicy | undefined,
  learner: StoredPolicy | undefined,
  settings?: Partial<ComplianceSettings>,
): EffectivePolicy {
  const specific = learner ?? tenant;
  if (specific === undefined) throw new Error("mergeEffectivePolicy needs a tenant or a learner policy");
  if (tenant !== undefined && learner !== undefined && tenant.tenantId !== learner.tenantId) {
    throw new Error(`cannot merge learner policy of tenant ${learner.tenantId} into tenant ${tenant.tenantId}`);
  }

  const merged = mergePolicyFields(tenant, learner);
  const sources: PolicySource[] = [];
  if (tenant !== undefined) sources.push(sourceOf(tenant));
  if (learner !== undefined) sources.push(sourceOf(learner));
  const learnerId = learner?.learnerId ?? "";
  const compliance = complianceProfile(merged, whom(specific.tenantId, learnerId));
  const retention = retentionInForce(compliance.modules, merged.dataRetentionDays, complianceSettings(settings));

  // Every property written out, in one literal: on Node 20 a spread followed by more properties leaves
  // the object in dictionary mode, slow to build and slow to read on the decision path (bench/README.md).
  return {
    primaryRegion: merged.primaryRegion,
    allowedRegions: merged.allowedRegions,
    prohibitedRegions: merged.prohibitedRegions,
    complianceFrameworks: merged.complianceFrameworks,
    coppaAddedForAge: merged.coppaAddedForAge,
    dataClassification: merged.dataClassification,
    allowCrossRegionFailover: merged.allowCrossRegionFailover,
    dataRetentionDays: merged.dataRetentionDays,
    emergencyContact: merged.emergencyContact,
    ageBand: merged.ageBand,
    transferSafeguards: merged.transferSafeguards,
    inferenceProviders: merged.inferenceProviders,
    tenantId: specific.tenantId,
    learnerId,
    effectiveRetentionDays: retention.days,
    obligations: retention.obligations.length === 0 ? EMPTY_LIST : Object.freeze(retention.obligations),
    sources,
    policyId: specific.policyId,
    policyVersion: specific.version,
    defaultRegionApplied: false,
    allowedSet: setOf(merged.allowedRegions),
    prohibitedSet: setOf(merged.prohibitedRegions),
    frameworkSet: setOf(merged.complianceFrameworks),
    compliance,
    regionPlans: new Map(),
  };
}

/**
 * The policy of a tenant with no stored policy when the service has a default region for unpinned
 * tenants: that region only, no frameworks. Built per request, so it shares its empty lists and sets
 * and its region plans are not memoised.
 */
export function defaultRegionPolicy(tenantId: string, learnerId: string, region: string): EffectivePolicy {
  return {
    tenantId,
    learnerId,
    primaryRegion: region,
    allowedRegions: EMPTY_LIST,
    prohibitedRegions: EMPTY_LIST,
    complianceFrameworks: EMPTY_LIST,
    coppaAddedForAge: false,
    dataClassification: "PERSONAL",
    allowCrossRegionFailover: false,
    dataRetentionDays: undefined,
    effectiveRetentionDays: undefined,
    obligations: EMPTY_LIST,
    emergencyContact: "",
    ageBand: undefined,
    transferSafeguards: EMPTY_LIST,
    inferenceProviders: EMPTY_LIST,
    sources: EMPTY_LIST,
    policyId: "",
    policyVersion: 0,
    defaultRegionApplied: true,
    allowedSet: EMPTY_SET,
    prohibitedSet: EMPTY_SET,
    frameworkSet: EMPTY_SET,
    compliance: EMPTY_COMPLIANCE_PROFILE,
    regionPlans: undefined,
  };
}

/** "tenant acme-edu", "learner l-7 of tenant acme-edu". */
function whom(tenantId: string, learnerId: string): string {
  return learnerId === "" ? `tenant ${tenantId}` : `learner ${learnerId} of tenant ${tenantId}`;
}

function sourceOf(policy: StoredPolicy): PolicySource {
  return { policyId: policy.policyId, version: policy.version, learnerId: policy.learnerId };
}

/** The learner's list when it names any entry, else the tenant's: an empty list means "inherit". */
function inheritList<T>(tenant: readonly T[] | undefined, learner: readonly T[] | undefined): readonly T[] {
  if (learner !== undefined && learner.length > 0) return [...learner];
  if (tenant !== undefined && tenant.length > 0) return [...tenant];
  return EMPTY_LIST;
}

/** Tenant's entries first, then the learner's that are new; no duplicates. */
function union<T>(tenant: readonly T[] | undefined, learner: readonly T[] | undefined): readonly T[] {
  const seen = new Set<T>(tenant);
  for (const entry of learner ?? EMPTY_LIST) seen.add(entry);
  return seen.size === 0 ? EMPTY_LIST : [...seen];
}

function smaller(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function setOf<T>(list: readonly T[]): ReadonlySet<T> {
  return list.length === 0 ? EMPTY_SET : new Set(list);
}
