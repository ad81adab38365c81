import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/**
 * One entry of the hash-chained audit log (an AuditEntry, column for column). Append-only: a trigger refuses
 * UPDATE and DELETE (the Postgres migration; created at open on SQLite). Never pruned.
 */
export interface AuditEntryRow {
  seq: number;
  hashVersion: number;
  prevHash: string;
  hash: string;
  /** An AuditKind name. */
  kind: string;
  occurredAt: number;
  tenantId: string;
  learnerId: string;
  actor: string;
  requestId: string;
  subjectId: string;
  beforeJson: string;
  afterJson: string;
  decisionId: string;
  operation: string;
  resourceType: string;
  resourceId: string;
  requestedRegion: string;
  targetRegion: string;
  callerRegion: string;
  primaryRegion: string;
  allowed: boolean | null;
  reasonCodes: string[];
  policyId: string;
  policyVersion: number;
  snapshotVersion: number;
  overrideId: string;
  /** [framework, reason code] pairs, as the canonical serialization has them. */
  violations: [framework: string, reasonCode: string][];
}

export const AuditEntryRowSchema = new EntitySchema<AuditEntryRow>({
  name: "AuditEntryRow",
  tableName: "audit_entry",
  properties: {
    seq: { type: epochMillisType, primary: true, autoincrement: false },
    hashVersion: { type: "integer" },
    prevHash: { type: "text" },
    hash: { type: "text" },
    kind: { type: "text" },
    occurredAt: { type: epochMillisType },
    tenantId: { type: "text" },
    learnerId: { type: "text" },
    actor: { type: "text" },
    requestId: { type: "text" },
    subjectId: { type: "text" },
    beforeJson: { type: "text" },
    afterJson: { type: "text" },
    decisionId: { type: "text" },
    operation: { type: "text" },
    resourceType: { type: "text" },
    resourceId: { type: "text" },
    requestedRegion: { type: "text" },
    targetRegion: { type: "text" },
    callerRegion: { type: "text" },
    primaryRegion: { type: "text" },
    allowed: { type: "boolean", nullable: true },
    reasonCodes: { type: "json" },
    policyId: { type: "text" },
    policyVersion: { type: "integer" },
    snapshotVersion: { type: epochMillisType },
    overrideId: { type: "text" },
    violations: { type: "json" },
  },
  // ListAccessLogs: a tenant's (or a learner's) decisions, newest first, keyset-paged on (occurred_at, seq).
  indexes: [
    {
      name: "audit_entry_decision_index",
      expression:
        'create index "audit_entry_decision_index" on "audit_entry" ("tenant_id", "occurred_at", "seq") where "kind" = \'DECISION\'',
    },
    {
      name: "audit_entry_learner_decision_index",
      expression:
        'create index "audit_entry_learner_decision_index" on "audit_entry" ("tenant_id", "learner_id", "occurred_at", "seq") where "kind" = \'DECISION\'',
    },
  ],
});
