import type { EmergencyOverride, OverrideStatus } from "./emergency-override.js";
import type { FieldViolation } from "./errors.js";
import { checkIdentifier } from "./policy-validation.js";

// The life cycle of an emergency override (break-glass), as pure rules: what a request must satisfy, what
// approving, revoking and expiring change, and when an override is due to expire. Time is passed in.

export const MIN_OVERRIDE_REASON_LENGTH = 20;
export const MAX_OVERRIDE_REASON_LENGTH = 2_000;
export const MAX_AFFECTED_LEARNERS = 1_000;
/** A PENDING request not approved within this long expires. */
export const PENDING_APPROVAL_WINDOW_MS = 24 * 3_600_000;
/** approved_by of an override made ACTIVE at once because no approval is required (EMERGENCY_REQUIRED_APPROVALS=0). */
export const NO_APPROVAL_REQUIRED = "none required";
const HOUR_MS = 3_600_000;

/** What a requester asks for. */
export interface OverrideRequestFields {
  readonly tenantId: string;
  readonly reason: string;
  /** Empty: every learner of the tenant, and tenant-level requests. */
  readonly affectedLearners: readonly string[];
  readonly sourceRegion: string;
  readonly targetRegion: string;
  readonly durationHours: number;
}

export interface OverrideRequestContext {
  /** Whether a region id is in the catalog. */
  readonly regionExists: (id: string) => boolean;
  /** The catalog's ids, for messages. */
  readonly regionIds: readonly string[];
  /** EMERGENCY_MAX_HOURS. */
  readonly maxHours: number;
}

/** The status fields a transition sets; usage counts are never part of one (they are added separately). */
export type OverrideStatusChange = Pick<EmergencyOverride, "status"> &
  Partial<Pick<EmergencyOverride, "approvedBy" | "approvedAt" | "expiresAt" | "revokedBy" | "revokedAt" | "revokeReason">>;

/** Every broken rule of a request at once, one violation per field and rule. */
export function validateOverrideRequest(fields: OverrideRequestFields, context: OverrideRequestContext): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (fields.tenantId === "") out.push({ field: "tenant_id", rule: "required", message: "tenant_id is required" });
  else checkIdentifier("tenant_id", fields.tenantId, out);

  const reason = fields.reason.trim();
  if (reason.length < MIN_OVERRIDE_REASON_LENGTH) {
    out.push({
      field: "reason",
      rule: "min_length",
      message: `reason must be at least ${MIN_OVERRIDE_REASON_LENGTH} characters (got ${reason.length}): say why break-glass is needed`,
    });
  } else if (reason.length > MAX_OVERRIDE_REASON_LENGTH) {
    out.push({ field: "reason", rule: "max_length", message: `reason is longer than ${MAX_OVERRIDE_REASON_LENGTH} characters` });
  }

  if (fields.affectedLearners.length > MAX_AFFECTED_LEARNERS) {
    out.push({
      field: "affected_learners",
      rule: "max_items",
      message: `affected_learners names ${fields.affectedLearners.length} learners; at most ${MAX_AFFECTED_LEARNERS} (leave it empty to cover every learner)`,
    });
  } else {
    const seen = new Set<string>();
    fields.affectedLearners.forEach((learnerId, i) => {
      const path = `affected_learners[${i}]`;
      if (learnerId === "") out.push({ field: path, rule: "required", message: `${path} is empty` });
      else if (!checkIdentifier(path, learnerId, out)) return;
      else if (seen.has(learnerId)) out.push({ field: path, rule: "unique", message: `${path} "${learnerId}" is listed twice` });
      seen.add(learnerId);
    });
  }

  const regionOk = (field: "source_region" | "target_region", id: string): boolean => {
    if (id === "") {
      out.push({ field, rule: "required", message: `${field} is required` });
      return false;
    }
    if (!context.regionExists(id)) {
      out.push({
        field,
        rule: "region_exists",
        message: `${field} "${id.slice(0, 128)}" is not a known region; known regions: ${context.regionIds.join(", ")}`,
      });
      return false;
    }
    return true;
  };
  const sourceOk = regionOk("source_region", fields.sourceRegion);
  const targetOk = regionOk("target_region", fields.targetRegion);
  if (sourceOk && targetOk && fields.sourceRegion === fields.targetRegion) {
    out.push({
      field: "target_region",
      rule: "distinct_regions",
      message: `target_region "${fields.targetRegion}" is the source region: an override moves data to another region`,
    });
  }

  if (!Number.isInteger(fields.durationHours) || fields.durationHours < 1 || fields.durationHours > context.maxHours) {
    out.push({
      field: "duration_hours",
      rule: "range",
      message: `duration_hours must be from 1 to ${context.maxHours} (EMERGENCY_MAX_HOURS); got ${fields.durationHours}`,
    });
  }
  return out;
}

/** ACTIVE from `now` for the override's duration; `expires_at` is exclusive. */
export function approval(override: Pick<EmergencyOverride, "durationHours">, approvedBy: string, now: number): OverrideStatusChange {
  return { status: "ACTIVE", approvedBy, approvedAt: now, expiresAt: now + override.durationHours * HOUR_MS };
}

export function revocation(revokedBy: string, reason: string, now: number): OverrideStatusChange {
  return { status: "REVOKED", revokedBy, revokedAt: now, revokeReason: reason };
}

export const EXPIRY: OverrideStatusChange = { status: "EXPIRED" };

/** When a PENDING override expires unapproved. */
export function approvalDeadline(override: Pick<EmergencyOverride, "requestedAt">): number {
  return override.requestedAt + PENDING_APPROVAL_WINDOW_MS;
}

/**
 * Whether the override should be EXPIRED at `now`: ACTIVE at or past `expires_at`, or PENDING for the whole approval
 * window. Decisions never wait for this: the engine compares `expires_at` with the decision's time itself.
 */
export function dueToExpire(override: Pick<EmergencyOverride, "status" | "expiresAt" | "requestedAt">, now: number): boolean {
  if (override.status === "ACTIVE") return override.expiresAt !== undefined && now >= override.expiresAt;
  if (override.status === "PENDING") return now >= approvalDeadline(override);
  return false;
}

/** The states an override can leave (PENDING and ACTIVE); the others are final. */
export function isOpen(status: OverrideStatus): boolean {
  return status === "PENDING" || status === "ACTIVE";
}
