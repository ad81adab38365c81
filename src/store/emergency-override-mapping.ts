import type { EmergencyOverride, OverrideStatus } from "../domain/emergency-override.js";
import type { EmergencyOverrideRow } from "./entities/emergency-override-row.js";

// The cast trusts the database: only OverrideStatus names are ever written.
export function overrideRowToDomain(row: EmergencyOverrideRow): EmergencyOverride {
  return {
    overrideId: row.overrideId,
    tenantId: row.tenantId,
    reason: row.reason,
    affectedLearners: [...row.affectedLearners],
    sourceRegion: row.sourceRegion,
    targetRegion: row.targetRegion,
    durationHours: row.durationHours,
    status: row.status as OverrideStatus,
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt,
    approvedBy: row.approvedBy,
    approvedAt: row.approvedAt ?? undefined,
    expiresAt: row.expiresAt ?? undefined,
    revokedBy: row.revokedBy,
    revokedAt: row.revokedAt ?? undefined,
    revokeReason: row.revokeReason,
    usageCount: row.usageCount,
    lastUsedAt: row.lastUsedAt ?? undefined,
  };
}

export function overrideToRow(override: EmergencyOverride): EmergencyOverrideRow {
  return {
    overrideId: override.overrideId,
    tenantId: override.tenantId,
    reason: override.reason,
    affectedLearners: [...override.affectedLearners],
    sourceRegion: override.sourceRegion,
    targetRegion: override.targetRegion,
    durationHours: override.durationHours,
    status: override.status,
    requestedBy: override.requestedBy,
    requestedAt: override.requestedAt,
    approvedBy: override.approvedBy,
    approvedAt: override.approvedAt ?? null,
    expiresAt: override.expiresAt ?? null,
    revokedBy: override.revokedBy,
    revokedAt: override.revokedAt ?? null,
    revokeReason: override.revokeReason,
    usageCount: override.usageCount,
    lastUsedAt: override.lastUsedAt ?? null,
  };
}

/** A row read with plain SQL (snake_case columns; node-postgres returns bigint columns as strings, json_agg as numbers). */
export function overrideRowOfColumns(r: Record<string, unknown>): EmergencyOverrideRow {
  const time = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    overrideId: r.override_id as string,
    tenantId: r.tenant_id as string,
    reason: r.reason as string,
    affectedLearners: r.affected_learners as string[],
    sourceRegion: r.source_region as string,
    targetRegion: r.target_region as string,
    durationHours: Number(r.duration_hours),
    status: r.status as string,
    requestedBy: r.requested_by as string,
    requestedAt: Number(r.requested_at),
    approvedBy: r.approved_by as string,
    approvedAt: time(r.approved_at),
    expiresAt: time(r.expires_at),
    revokedBy: r.revoked_by as string,
    revokedAt: time(r.revoked_at),
    revokeReason: r.revoke_reason as string,
    usageCount: Number(r.usage_count),
    lastUsedAt: time(r.last_used_at),
  };
}
