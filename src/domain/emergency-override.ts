import type { DecisionRequest, Reason } from "./decision.js";
import type { EffectivePolicy } from "./policy.js";

export const OVERRIDE_STATUSES = ["PENDING", "ACTIVE", "EXPIRED", "REVOKED", "REJECTED"] as const;
export type OverrideStatus = (typeof OVERRIDE_STATUSES)[number];

/** A time-limited, second-person-approved break-glass permission (the seed's "emergency override"). */
export interface EmergencyOverride {
  readonly overrideId: string;
  readonly tenantId: string;
  readonly reason: string;
  /** Empty: every learner of the tenant, and tenant-level requests. */
  readonly affectedLearners: readonly string[];
  /** Where the data lives: the effective primary region of the covered learners. */
  readonly sourceRegion: string;
  /** Where the data may go while the override is active. */
  readonly targetRegion: string;
  readonly durationHours: number;
  readonly status: OverrideStatus;
  readonly requestedBy: string;
  /** Epoch milliseconds. */
  readonly requestedAt: number;
  readonly approvedBy: string;
  readonly approvedAt: number | undefined;
  /** Exclusive: a decision at or after this instant is not covered, whether or not a sweeper has run. */
  readonly expiresAt: number | undefined;
  readonly revokedBy: string;
  readonly revokedAt: number | undefined;
  readonly revokeReason: string;
  readonly usageCount: number;
  readonly lastUsedAt: number | undefined;
}

/**
 * Whether an override covers a decision (compliance-rules.md, "Emergency overrides in a decision"): ACTIVE
 * at `now` (expires_at exclusive), same tenant, the learner covered, the source region is the effective
 * primary region (where the data lives; caller_region plays no part) and the target is the decision's.
 */
export function overrideCovers(
  override: EmergencyOverride,
  request: DecisionRequest,
  policy: EffectivePolicy,
  target: string,
  now: number,
): boolean {
  return (
    override.status === "ACTIVE" &&
    override.expiresAt !== undefined &&
    now < override.expiresAt &&
    override.tenantId === request.tenantId &&
    override.sourceRegion === policy.primaryRegion &&
    override.targetRegion === target &&
    (override.affectedLearners.length === 0 || (request.learnerId !== "" && override.affectedLearners.includes(request.learnerId)))
  );
}

/** Soft denies only: every DENY reason is overridable. A hard rule (COPPA, an unavailable region) keeps the deny. */
export function onlySoftDenies(reasons: readonly Reason[]): boolean {
  let any = false;
  for (const reason of reasons) {
    if (reason.effect !== "DENY") continue;
    if (!reason.overridable) return false;
    any = true;
  }
  return any;
}

export function findCoveringOverride(
  overrides: readonly EmergencyOverride[],
  request: DecisionRequest,
  policy: EffectivePolicy,
  target: string,
  now: number,
): EmergencyOverride | undefined {
  for (const override of overrides) {
    if (overrideCovers(override, request, policy, target, now)) return override;
  }
  return undefined;
}

export function overrideAppliedReason(override: EmergencyOverride, overridden: readonly Reason[]): Reason {
  return {
    code: "EMERGENCY_OVERRIDE_APPLIED",
    message: `emergency override ${override.overrideId} (approved by ${override.approvedBy || "policy: no approval required"}) allows ${override.sourceRegion} → ${override.targetRegion} despite ${overridden
      .map((r) => r.code)
      .join(", ")}`,
    framework: undefined,
    effect: "INFO",
    overridable: false,
    region: override.targetRegion,
  };
}
