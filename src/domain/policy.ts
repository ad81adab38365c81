import type { ComplianceProfile } from "./compliance-profile.js";
import type { Reason } from "./decision.js";
import type { RegionPlan } from "./region-plan.js";
import type { AgeBand, DataClassification, Framework, Safeguard } from "./vocabulary.js";

/** The fields a caller writes. Unset optionals are `undefined`; unset lists are empty. */
export interface PolicyFields {
  readonly tenantId: string;
  /** Empty string for the tenant's own policy. */
  readonly learnerId: string;
  /** Empty string when a learner policy inherits its tenant's. */
  readonly primaryRegion: string;
  readonly allowedRegions: readonly string[];
  readonly prohibitedRegions: readonly string[];
  readonly complianceFrameworks: readonly Framework[];
  readonly dataClassification: DataClassification | undefined;
  readonly allowCrossRegionFailover: boolean | undefined;
  readonly dataRetentionDays: number | undefined;
  readonly emergencyContact: string;
  readonly ageBand: AgeBand | undefined;
  readonly transferSafeguards: readonly Safeguard[];
  readonly inferenceProviders: readonly string[];
}

/** Every field unset: the base for building a policy field by field (demo data, tests). */
export const EMPTY_POLICY_FIELDS: PolicyFields = Object.freeze({
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
});

/** A policy as stored: the written fields plus identity, version and provenance. */
export interface StoredPolicy extends PolicyFields {
  readonly policyId: string;
  /** Starts at 1; every update adds 1. */
  readonly version: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly createdBy: string;
  readonly updatedBy: string;
}

/** Which stored policy, at which version, an effective policy was merged from. */
export interface PolicySource {
  readonly policyId: string;
  readonly version: number;
  readonly learnerId: string;
}

/**
 * The fields of a learner policy merged over its tenant's (or a tenant policy's own fields), per the
 * inheritance rules: what a decision uses and what the write-time framework rules judge.
 */
export interface MergedPolicyFields {
  readonly primaryRegion: string;
  readonly allowedRegions: readonly string[];
  /** Union of tenant's and learner's. */
  readonly prohibitedRegions: readonly string[];
  /** Union of tenant's and learner's (plus COPPA for UNDER_13). */
  readonly complianceFrameworks: readonly Framework[];
  /** COPPA is in the frameworks only because the age band is UNDER_13 (no policy lists it). */
  readonly coppaAddedForAge: boolean;
  /** PERSONAL when nothing sets one. */
  readonly dataClassification: DataClassification;
  readonly allowCrossRegionFailover: boolean;
  /** The smaller of tenant's and learner's, as written; undefined when neither sets one. */
  readonly dataRetentionDays: number | undefined;
  readonly emergencyContact: string;
  readonly ageBand: AgeBand | undefined;
  readonly transferSafeguards: readonly Safeguard[];
  readonly inferenceProviders: readonly string[];
}

/** The merged policy a decision uses: learner fields over tenant fields, per the inheritance rules. */
export interface EffectivePolicy extends MergedPolicyFields {
  readonly tenantId: string;
  readonly learnerId: string;
  /**
   * The retention in force: the smallest of the written retention and the frameworks' caps (COPPA:
   * 365 days unless configured otherwise). Undefined when nothing limits it (indefinite).
   */
  readonly effectiveRetentionDays: number | undefined;
  /** Obligations that come with the policy itself, e.g. COPPA_RETENTION_CAPPED (effect OBLIGATION). */
  readonly obligations: readonly Reason[];
  /** Tenant first, then learner. Empty when the default region for unpinned tenants applied. */
  readonly sources: readonly PolicySource[];
  /** The most specific source (the learner's policy when there is one). */
  readonly policyId: string;
  readonly policyVersion: number;
  readonly defaultRegionApplied: boolean;

  // Precomputed when the policy is merged, so that decide() does membership tests instead of list scans.
  // The sets hold exactly the entries of the lists above; none of these is mutated after the merge
  // except the regionPlans memo.

  /** `allowedRegions` as a set. */
  readonly allowedSet: ReadonlySet<string>;
  /** `prohibitedRegions` as a set. */
  readonly prohibitedSet: ReadonlySet<string>;
  /** `complianceFrameworks` as a set. */
  readonly frameworkSet: ReadonlySet<Framework>;
  /** The framework rules that apply, resolved once at merge time (see compliance-profile.ts). */
  readonly compliance: ComplianceProfile;
  /**
   * Memo of regionPlan(): the request-independent outcome of steps 4–6 and 8 per target region, filled
   * on first use and keyed by region id (a plan is reused only for the very Region object it was built
   * from, so a region status change never reads a stale plan). Not part of the policy's value;
   * undefined for policies built per request (the default-region policy), which are not memoised.
   */
  readonly regionPlans: Map<string, RegionPlan> | undefined;
}
