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

/** The merged policy a decision uses: learner fields over tenant fields, per the inheritance rules. */
export interface EffectivePolicy {
  readonly tenantId: string;
  readonly learnerId: string;
  readonly primaryRegion: string;
  readonly allowedRegions: readonly string[];
  /** Union of tenant's and learner's. */
  readonly prohibitedRegions: readonly string[];
  /** Union of tenant's and learner's (plus COPPA for UNDER_13). */
  readonly complianceFrameworks: readonly Framework[];
  /** PERSONAL when nothing sets one. */
  readonly dataClassification: DataClassification;
  readonly allowCrossRegionFailover: boolean;
  /** The smaller of tenant's and learner's; undefined when neither sets one. */
  readonly dataRetentionDays: number | undefined;
  readonly emergencyContact: string;
  readonly ageBand: AgeBand | undefined;
  readonly transferSafeguards: readonly Safeguard[];
  readonly inferenceProviders: readonly string[];
  /** Tenant first, then learner. Empty when the default region for unpinned tenants applied. */
  readonly sources: readonly PolicySource[];
  /** The most specific source (the learner's policy when there is one). */
  readonly policyId: string;
  readonly policyVersion: number;
  readonly defaultRegionApplied: boolean;

  // Precomputed when the policy is merged, so that decide() does membership tests instead of list scans.
  // They hold exactly the entries of the lists above and are never mutated after the merge.

  /** `allowedRegions` as a set. */
  readonly allowedSet: ReadonlySet<string>;
  /** `prohibitedRegions` as a set. */
  readonly prohibitedSet: ReadonlySet<string>;
  /** `complianceFrameworks` as a set. */
  readonly frameworkSet: ReadonlySet<Framework>;
  /** COPPA is in the frameworks only because the age band is UNDER_13 (no policy lists it). */
  readonly coppaAddedForAge: boolean;
}
