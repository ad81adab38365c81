import type { EmergencyOverride } from "./emergency-override.js";
import type { EffectivePolicy } from "./policy.js";
import type { Region } from "./region.js";

/**
 * What the decision engine reads. The engine owns this interface; the snapshot module satisfies it with
 * structures precomputed when the snapshot is built, so a decision is a few Map lookups.
 */
export interface SnapshotView {
  readonly version: number;
  /** Regions in catalog order. */
  readonly regions: readonly Region[];
  region(id: string): Region | undefined;
  /**
   * The effective policy for a learner (its own merged with its tenant's, or its tenant's alone), or
   * for tenant-level data when learnerId is empty. Undefined when no stored policy covers the request.
   */
  effectivePolicy(tenantId: string, learnerId: string): EffectivePolicy | undefined;
  /** The configured default region for unpinned tenants, or undefined (fail closed). */
  readonly defaultRegion: string | undefined;
  /** The tenant's ACTIVE emergency overrides (expiry is still checked against the decision's time). */
  overridesFor(tenantId: string): readonly EmergencyOverride[];
}
