import type { Reason } from "../domain/decision.js";
import type { Operation } from "../domain/vocabulary.js";

/** What an audit entry records; names equal the proto AuditEventKind values without the prefix. */
export const AUDIT_KINDS = [
  "DECISION",
  "POLICY_CREATED",
  "POLICY_UPDATED",
  "POLICY_DELETED",
  "REGION_STATUS_CHANGED",
  "OVERRIDE_REQUESTED",
  "OVERRIDE_APPROVED",
  "OVERRIDE_REJECTED",
  "OVERRIDE_REVOKED",
  "OVERRIDE_EXPIRED",
  "OVERRIDE_USED",
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
export type AdminAuditKind = Exclude<AuditKind, "DECISION">;

/** What the audit keeps of a decision's reason: its code, and what makes it a violation. */
export type AuditedReason = Pick<Reason, "code" | "framework" | "effect">;

/**
 * One decision, as the decision path hands it over: one flat object of scalars (strings it already holds are
 * shared, not copied) and the engine's reasons (frozen, usually shared between decisions). Nothing else is
 * retained until the writer takes it: holding on to whole requests and decisions would make the garbage
 * collector copy them. The writer flattens it into entry content later, off the decision path.
 */
export interface DecisionAuditRecord {
  readonly kind: "DECISION";
  /** Epoch milliseconds of the decision. */
  readonly time: number;
  readonly decisionId: string;
  readonly snapshotVersion: number;
  readonly actor: string;
  readonly requestId: string;
  readonly tenantId: string;
  readonly learnerId: string;
  readonly operation: Operation;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly requestedRegion: string;
  readonly callerRegion: string;
  readonly targetRegion: string;
  readonly primaryRegion: string;
  readonly allowed: boolean;
  /** The decision's reasons, in order: the reason codes and the violations are taken from them. */
  readonly reasons: readonly AuditedReason[];
  readonly policyId: string;
  readonly policyVersion: number;
  readonly overrideId: string;
}

/**
 * An administrative event: a policy or region status change, an emergency override's life cycle. Before and
 * after are canonical JSON (`canonicalJson`), "" when there is no such state (before a create, after a delete).
 */
export interface AdminAuditRecord {
  readonly kind: AdminAuditKind;
  /** Epoch milliseconds. */
  readonly time: number;
  /** "" for catalog-wide events (region status). */
  readonly tenantId: string;
  readonly learnerId: string;
  readonly actor: string;
  readonly requestId: string;
  /** The policy, region or override id. */
  readonly subjectId: string;
  readonly beforeJson: string;
  readonly afterJson: string;
}

export type AuditRecord = DecisionAuditRecord | AdminAuditRecord;
