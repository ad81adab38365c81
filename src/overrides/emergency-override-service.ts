import type { ChangeEvent } from "../bus/change-bus.js";
import type { EmergencyOverride, OverrideStatus } from "../domain/emergency-override.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, type FieldViolation } from "../domain/errors.js";
import {
  EXPIRY,
  MAX_OVERRIDE_REASON_LENGTH,
  NO_APPROVAL_REQUIRED,
  PENDING_APPROVAL_WINDOW_MS,
  approval,
  dueToExpire,
  isOpen,
  revocation,
  validateOverrideRequest,
  type OverrideRequestFields,
  type OverrideStatusChange,
} from "../domain/override-rules.js";
import type { Region } from "../domain/region.js";
import type { TenantVisibility } from "../policies/policy-service.js";
import { writeMeta, type ListOverridesQuery, type PolicyStore, type WriteAuthor } from "../store/policy-store.js";
import type { EmergencyOverrideStatus } from "../telemetry/metrics.js";

export interface EmergencyOverrideSettings {
  /** EMERGENCY_MAX_HOURS. */
  readonly maxHours: number;
  /** EMERGENCY_REQUIRED_APPROVALS: 0 makes a request ACTIVE at once. */
  readonly requiredApprovals: number;
}

export interface EmergencyOverrideServiceDeps {
  readonly store: Pick<PolicyStore, "createOverride" | "getOverride" | "listOverrides" | "transitionOverride">;
  readonly regions: ReadonlyMap<string, Region>;
  readonly clock: () => number;
  readonly settings: EmergencyOverrideSettings;
  /** Announces a committed change and resolves once this replica's snapshot includes it. */
  readonly announce: (change: ChangeEvent) => Promise<void>;
  readonly countTransition?: (status: EmergencyOverrideStatus) => void;
}

export interface EmergencyOverrideService {
  /** PENDING (ACTIVE at once when no approval is required); INVALID_ARGUMENT lists every broken rule. */
  request(fields: OverrideRequestFields, author: WriteAuthor): Promise<EmergencyOverride>;
  /** PENDING → ACTIVE for `expires_at` = now + duration; never by the requester. */
  approve(overrideId: string, author: WriteAuthor, comment: string, visible?: TenantVisibility): Promise<EmergencyOverride>;
  /** PENDING or ACTIVE → REVOKED. */
  revoke(overrideId: string, reason: string, author: WriteAuthor, visible?: TenantVisibility): Promise<EmergencyOverride>;
  /** Newest first. */
  list(query: ListOverridesQuery): Promise<EmergencyOverride[]>;
  /** Marks every ACTIVE override past expires_at and every PENDING one past the approval window EXPIRED; returns how many. */
  sweep(): Promise<number>;
}

/** The actor of the expiry sweep, in the audit log. */
export const SWEEPER_ACTOR = "system:override-sweeper";
const SWEEP_PAGE = 500;
const COUNTED: Partial<Record<OverrideStatus, EmergencyOverrideStatus>> = {
  ACTIVE: "approved",
  REVOKED: "revoked",
  EXPIRED: "expired",
  REJECTED: "rejected",
};

/**
 * Emergency override writes, like policy writes: validate, commit (with a change-log row and the audit event in the
 * same transaction), announce, and return once this replica decides with the change.
 */
export function createEmergencyOverrideService(deps: EmergencyOverrideServiceDeps): EmergencyOverrideService {
  const { store, clock } = deps;
  const count = (status: EmergencyOverrideStatus) => deps.countTransition?.(status);
  const regionIds = [...deps.regions.keys()];

  const announced = async (result: { value: EmergencyOverride; changeVersion: number }): Promise<EmergencyOverride> => {
    await deps.announce({ version: result.changeVersion, kind: "override", ids: [result.value.overrideId] });
    return result.value;
  };

  const transition = async (
    current: EmergencyOverride,
    change: OverrideStatusChange,
    author: WriteAuthor,
    now: number,
    note?: string,
  ): Promise<EmergencyOverride> => {
    const result = await store.transitionOverride(current.overrideId, current.status, change, writeMeta(author, now), note);
    const counted = COUNTED[change.status];
    if (counted !== undefined) count(counted);
    return announced(result);
  };

  /** The override as the caller may see it: another tenant's is NOT_FOUND, exactly like a missing id. */
  const visibleOverride = async (overrideId: string, visible: TenantVisibility): Promise<EmergencyOverride> => {
    if (overrideId === "") throw new InvalidArgumentError([{ field: "override_id", rule: "required", message: "override_id is required" }]);
    const found = await store.getOverride(overrideId);
    if (found === undefined || !visible(found.tenantId)) throw new NotFoundError(`emergency override ${overrideId} does not exist`);
    return found;
  };

  /** Expires an override that is due, whether or not the sweeper got there first; true when it is (now) EXPIRED. */
  const expireIfDue = async (override: EmergencyOverride, now: number): Promise<boolean> => {
    if (!dueToExpire(override, now)) return false;
    try {
      await transition(override, EXPIRY, SWEEPER_ACTOR, now);
    } catch (err) {
      if (!(err instanceof FailedPreconditionError)) throw err; // another replica's sweeper won
    }
    return true;
  };

  return {
    async request(fields, author) {
      const violations = validateOverrideRequest(fields, {
        regionExists: (id) => deps.regions.has(id),
        regionIds,
        maxHours: deps.settings.maxHours,
      });
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const now = clock();
      const meta = writeMeta(author, now);
      const requested = {
        tenantId: fields.tenantId,
        reason: fields.reason.trim(),
        affectedLearners: [...fields.affectedLearners],
        sourceRegion: fields.sourceRegion,
        targetRegion: fields.targetRegion,
        durationHours: fields.durationHours,
        requestedBy: meta.actor,
        requestedAt: now,
        approvedBy: "",
        approvedAt: undefined,
        expiresAt: undefined,
        revokedBy: "",
        revokedAt: undefined,
        revokeReason: "",
      };
      const activeAtOnce = deps.settings.requiredApprovals === 0;
      const result = await store.createOverride(
        activeAtOnce ? { ...requested, ...approval(fields, NO_APPROVAL_REQUIRED, now) } : { ...requested, status: "PENDING" },
        meta,
      );
      count("requested");
      if (activeAtOnce) count("approved");
      return announced(result);
    },

    async approve(overrideId, author, comment, visible = everyTenant) {
      const current = await visibleOverride(overrideId, visible);
      const actor = actorOf(author);
      if (actor === current.requestedBy) {
        throw new PermissionDeniedError(
          `emergency override ${overrideId} was requested by "${actor}": an override must be approved by someone other than its requester (no self-approval)`,
        );
      }
      const now = clock();
      if (current.status === "PENDING" && (await expireIfDue(current, now))) {
        throw new FailedPreconditionError(
          `emergency override ${overrideId} is EXPIRED: it was not approved within ${PENDING_APPROVAL_WINDOW_MS / 3_600_000} hours of its request`,
        );
      }
      if (current.status !== "PENDING") {
        throw new FailedPreconditionError(`emergency override ${overrideId} is ${current.status}: only a PENDING override can be approved`);
      }
      return transition(current, approval(current, actor, now), author, now, comment.trim());
    },

    async revoke(overrideId, reason, author, visible = everyTenant) {
      const violations: FieldViolation[] = [];
      if (overrideId === "") violations.push({ field: "override_id", rule: "required", message: "override_id is required" });
      if (reason.trim() === "") violations.push({ field: "reason", rule: "required", message: "reason is required (it goes to the audit log)" });
      else if (reason.length > MAX_OVERRIDE_REASON_LENGTH) {
        violations.push({ field: "reason", rule: "max_length", message: `reason is longer than ${MAX_OVERRIDE_REASON_LENGTH} characters` });
      }
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const current = await visibleOverride(overrideId, visible);
      const now = clock();
      if (await expireIfDue(current, now)) {
        throw new FailedPreconditionError(`emergency override ${overrideId} is EXPIRED: there is nothing left to revoke`);
      }
      if (!isOpen(current.status)) {
        throw new FailedPreconditionError(`emergency override ${overrideId} is ${current.status}: only a PENDING or ACTIVE override can be revoked`);
      }
      const actor = actorOf(author);
      return transition(current, revocation(actor, reason.trim(), now), author, now);
    },

    async list(query) {
      // As of now, not as of the last sweep: an override past its expiry (or a request past its approval
      // deadline) no longer covers anything, so it is listed as EXPIRED even before the sweep records that.
      const now = clock();
      const page = await store.listOverrides(query);
      return page.map((override) => (dueToExpire(override, now) ? { ...override, status: "EXPIRED" as const } : override));
    },

    async sweep() {
      const now = clock();
      let expired = 0;
      let after: ListOverridesQuery["after"] = undefined;
      for (;;) {
        const page = await store.listOverrides({ tenantId: "", includeInactive: false, limit: SWEEP_PAGE, after });
        for (const override of page) {
          if (dueToExpire(override, now) && (await expireIfDue(override, now))) expired++;
        }
        const last = page.at(-1);
        if (last === undefined || page.length < SWEEP_PAGE) return expired;
        after = { requestedAt: last.requestedAt, overrideId: last.overrideId };
      }
    },
  };
}

const everyTenant: TenantVisibility = () => true;

const actorOf = (author: WriteAuthor): string => (typeof author === "string" ? author : author.actor);
