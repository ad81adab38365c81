import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/** One emergency override (break-glass), in its current state; overrides are never deleted. */
export interface EmergencyOverrideRow {
  /** Server-generated, "ovr_" + random hex. */
  overrideId: string;
  tenantId: string;
  reason: string;
  /** Learner ids, as a JSON array; empty covers every learner of the tenant. */
  affectedLearners: string[];
  sourceRegion: string;
  targetRegion: string;
  durationHours: number;
  /** An OverrideStatus name: PENDING, ACTIVE, EXPIRED, REVOKED or REJECTED. */
  status: string;
  requestedBy: string;
  /** Epoch milliseconds, like every time below. */
  requestedAt: number;
  approvedBy: string;
  approvedAt: number | null;
  /** Exclusive. */
  expiresAt: number | null;
  revokedBy: string;
  revokedAt: number | null;
  revokeReason: string;
  /** Decisions it allowed, added in batches from every replica's in-memory counter. */
  usageCount: number;
  lastUsedAt: number | null;
}

export const EmergencyOverrideRowSchema = new EntitySchema<EmergencyOverrideRow>({
  name: "EmergencyOverrideRow",
  tableName: "emergency_override",
  properties: {
    overrideId: { type: "text", primary: true },
    tenantId: { type: "text" },
    reason: { type: "text" },
    affectedLearners: { type: "json" },
    sourceRegion: { type: "text" },
    targetRegion: { type: "text" },
    durationHours: { type: "integer" },
    status: { type: "text" },
    requestedBy: { type: "text" },
    requestedAt: { type: epochMillisType },
    approvedBy: { type: "text" },
    approvedAt: { type: epochMillisType, nullable: true },
    expiresAt: { type: epochMillisType, nullable: true },
    revokedBy: { type: "text" },
    revokedAt: { type: epochMillisType, nullable: true },
    revokeReason: { type: "text" },
    usageCount: { type: epochMillisType }, // a bigint read as a JS number, like the times
    lastUsedAt: { type: epochMillisType, nullable: true },
  },
  // Listing is newest first, per tenant or across tenants; the snapshot reads the ACTIVE ones and the sweeper the
  // PENDING and ACTIVE ones.
  indexes: [
    { name: "emergency_override_tenant_requested_index", properties: ["tenantId", "requestedAt", "overrideId"] },
    { name: "emergency_override_requested_index", properties: ["requestedAt", "overrideId"] },
    { name: "emergency_override_status_index", properties: ["status"] },
  ],
});
