import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/**
 * The violation index: one row per denying rule of a denied decision, denormalised from its audit entry (whose
 * hash covers the same facts; the verifier compares them). Append-only like audit_entry.
 */
export interface AuditViolationRow {
  seq: number;
  idx: number;
  /** A Framework name, or "" for a pinning rule. */
  framework: string;
  reasonCode: string;
  occurredAt: number;
  decisionId: string;
  tenantId: string;
  learnerId: string;
  requestedRegion: string;
  targetRegion: string;
  primaryRegion: string;
  actor: string;
  requestId: string;
}

export const AuditViolationRowSchema = new EntitySchema<AuditViolationRow>({
  name: "AuditViolationRow",
  tableName: "audit_violation",
  properties: {
    seq: { type: epochMillisType, primary: true, autoincrement: false },
    idx: { type: "integer", primary: true, autoincrement: false },
    framework: { type: "text" },
    reasonCode: { type: "text" },
    occurredAt: { type: epochMillisType },
    decisionId: { type: "text" },
    tenantId: { type: "text" },
    learnerId: { type: "text" },
    requestedRegion: { type: "text" },
    targetRegion: { type: "text" },
    primaryRegion: { type: "text" },
    actor: { type: "text" },
    requestId: { type: "text" },
  },
  // ListViolations, newest first: of one tenant, or of every tenant.
  indexes: [
    { name: "audit_violation_tenant_index", properties: ["tenantId", "occurredAt", "seq", "idx"] },
    { name: "audit_violation_time_index", properties: ["occurredAt", "seq", "idx"] },
  ],
});
