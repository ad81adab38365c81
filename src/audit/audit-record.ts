import type { Decision, DecisionRequest } from "../domain/decision.js";

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

/** The request fields a decision record keeps besides the engine's request; a ResolveAccessRequest has them. */
export interface AccessFacts {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly callerRegion: string;
}

/**
 * One decision, as the decision path hands it over: references to what the path already holds (the engine's
 * request and answer, the proto request), so enqueueing allocates this one object and nothing else. The writer
 * flattens it later, off the decision path. Every referenced object must not change after the call returns.
 */
export interface DecisionAuditRecord {
  readonly kind: "DECISION";
  /** Epoch milliseconds of the decision. */
  readonly time: number;
  readonly decisionId: string;
  readonly snapshotVersion: number;
  readonly actor: string;
  readonly requestId: string;
  readonly request: DecisionRequest;
  readonly facts: AccessFacts;
  readonly decision: Decision;
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
