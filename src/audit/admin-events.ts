import type { StoredPolicy } from "../domain/policy.js";
import type { AdminAuditKind, AdminAuditRecord } from "./audit-record.js";
import { canonicalJson } from "./canonical-json.js";

/** Who, when and under which request id an admin change was made. */
export interface AdminEventMeta {
  readonly actor: string;
  /** Epoch milliseconds. */
  readonly now: number;
  readonly requestId?: string;
}

type PolicyEventKind = "POLICY_CREATED" | "POLICY_UPDATED" | "POLICY_DELETED";

/** A policy change: the stored policy before (absent on create) and after (absent on delete). */
export function policyEvent(
  kind: PolicyEventKind,
  before: StoredPolicy | undefined,
  after: StoredPolicy | undefined,
  meta: AdminEventMeta,
): AdminAuditRecord {
  const policy = after ?? before;
  if (policy === undefined) throw new Error("a policy event needs the policy before or after the change");
  return {
    kind,
    time: meta.now,
    tenantId: policy.tenantId,
    learnerId: policy.learnerId,
    actor: meta.actor,
    requestId: meta.requestId ?? "",
    subjectId: policy.policyId,
    beforeJson: before === undefined ? "" : canonicalJson(before),
    afterJson: after === undefined ? "" : canonicalJson(after),
  };
}

/** An operator-set region status: the record before (absent when the region had none) and after. */
export function regionStatusEvent(
  regionId: string,
  before: object | undefined,
  after: object,
  meta: AdminEventMeta,
): AdminAuditRecord {
  return {
    kind: "REGION_STATUS_CHANGED",
    time: meta.now,
    tenantId: "",
    learnerId: "",
    actor: meta.actor,
    requestId: meta.requestId ?? "",
    subjectId: regionId,
    beforeJson: before === undefined ? "" : canonicalJson(before),
    afterJson: canonicalJson(after),
  };
}

export type OverrideEventKind = Extract<AdminAuditKind, `OVERRIDE_${string}`>;

/**
 * An emergency override's life cycle (requested, approved, rejected, revoked, expired, used), for the override
 * issue: the override as stored before and after the transition, as plain objects. Record it in the transaction
 * of the change (`Written.events` in the MikroORM store) or, without one (an expiry sweep), through AuditLog.record.
 */
export function overrideEvent(
  kind: OverrideEventKind,
  override: { readonly overrideId: string; readonly tenantId: string },
  before: object | undefined,
  after: object | undefined,
  meta: AdminEventMeta,
): AdminAuditRecord {
  return {
    kind,
    time: meta.now,
    tenantId: override.tenantId,
    learnerId: "",
    actor: meta.actor,
    requestId: meta.requestId ?? "",
    subjectId: override.overrideId,
    beforeJson: before === undefined ? "" : canonicalJson(before),
    afterJson: after === undefined ? "" : canonicalJson(after),
  };
}
