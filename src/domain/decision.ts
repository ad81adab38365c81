import type { Framework, Operation, DataClassification, ReasonCode, ReasonEffect } from "./vocabulary.js";

/** One check that ran during a decision, in decision order. */
export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
  /** Undefined for pinning rules. */
  readonly framework: Framework | undefined;
  readonly effect: ReasonEffect;
  /** An active emergency override may turn this deny into an allow. */
  readonly overridable: boolean;
  readonly region: string;
}

/** What the engine needs to know about a request; already validated for shape by the API edge. */
export interface DecisionRequest {
  readonly tenantId: string;
  /** Empty for tenant-level data. */
  readonly learnerId: string;
  readonly operation: Operation;
  /** Empty means the effective primary region. */
  readonly requestedRegion: string;
  /** Undefined means the policy's classification. */
  readonly dataClassification: DataClassification | undefined;
}

/** Where a permitted operation should go. */
export interface Routing {
  readonly region: string;
  readonly storageBucket: string;
  readonly storageEndpoint: string;
  readonly searchEndpoint: string;
  readonly inferenceProvider: string;
  readonly inferenceEndpoint: string;
}

/** The engine's answer. The API edge adds the decision id, time and snapshot version. */
export interface Decision {
  readonly allowed: boolean;
  /** The region judged (the target on allow). Empty when no policy applied. */
  readonly targetRegion: string;
  /** The effective primary region; empty when no policy applied. */
  readonly primaryRegion: string;
  readonly crossRegion: boolean;
  /** Every check that ran, in decision order. May be shared between decisions and frozen: copy to change. */
  readonly reasons: readonly Reason[];
  /** Set when allowed. May be shared and frozen, like `reasons`. */
  readonly routing: Routing | undefined;
  readonly policyId: string;
  readonly policyVersion: number;
  readonly effectiveFrameworks: readonly Framework[];
  readonly emergencyOverrideId: string;
  /** On deny: regions where the same request would be allowed, in catalog order. */
  readonly alternativeRegions: readonly string[];
}
