import { randomUUID } from "node:crypto";
import { raw, type EntityManager, type FilterQuery } from "@mikro-orm/core";
import { overrideEvent, type OverrideEventKind } from "../../audit/admin-events.js";
import type { AdminAuditRecord } from "../../audit/audit-record.js";
import type { EmergencyOverride, OverrideStatus } from "../../domain/emergency-override.js";
import { FailedPreconditionError, NotFoundError } from "../../domain/errors.js";
import type { OverrideStatusChange } from "../../domain/override-rules.js";
import { EmergencyOverrideRowSchema, type EmergencyOverrideRow } from "../entities/emergency-override-row.js";
import { overrideRowToDomain, overrideToRow } from "../emergency-override-mapping.js";
import type { ListOverridesQuery, NewEmergencyOverride, OverrideUsage, WriteMeta } from "../policy-store.js";

// Emergency override reads and writes of the MikroORM store; the writes run inside its write transaction (after the
// change counter bump that serialises writers), and return what the change-log row and the audit chain need.

/** What one override write changed: the value, the override ids of its change-log row, its audit events. */
export interface OverrideWrite<T> {
  readonly value: T;
  readonly ids: readonly string[];
  readonly events: readonly AdminAuditRecord[];
}

const EVENT_OF: Partial<Record<OverrideStatus, OverrideEventKind>> = {
  ACTIVE: "OVERRIDE_APPROVED",
  REVOKED: "OVERRIDE_REVOKED",
  EXPIRED: "OVERRIDE_EXPIRED",
  REJECTED: "OVERRIDE_REJECTED",
};

export async function insertOverride(tx: EntityManager, fields: NewEmergencyOverride, meta: WriteMeta): Promise<OverrideWrite<EmergencyOverride>> {
  const override: EmergencyOverride = {
    ...fields,
    affectedLearners: [...fields.affectedLearners],
    overrideId: `ovr_${randomUUID().replaceAll("-", "")}`,
    usageCount: 0,
    lastUsedAt: undefined,
  };
  await tx.insert(EmergencyOverrideRowSchema, overrideToRow(override));
  const events: AdminAuditRecord[] = [];
  if (override.status === "PENDING") {
    events.push(overrideEvent("OVERRIDE_REQUESTED", override, undefined, override, meta));
  } else {
    // Active at once (no approval required): requested, then approved, in one transaction.
    const requested: EmergencyOverride = { ...override, status: "PENDING", approvedBy: "", approvedAt: undefined, expiresAt: undefined };
    events.push(overrideEvent("OVERRIDE_REQUESTED", override, undefined, requested, meta));
    const kind = EVENT_OF[override.status];
    if (kind !== undefined) events.push(overrideEvent(kind, override, requested, override, meta));
  }
  return { value: override, ids: [override.overrideId], events };
}

export async function transitionOverrideRow(
  tx: EntityManager,
  overrideId: string,
  expected: OverrideStatus,
  change: OverrideStatusChange,
  meta: WriteMeta,
  note = "",
): Promise<OverrideWrite<EmergencyOverride>> {
  const kind = EVENT_OF[change.status];
  if (kind === undefined) throw new Error(`an override cannot move to ${change.status}`);
  const row = await tx.findOne(EmergencyOverrideRowSchema, { overrideId });
  if (!row) throw new NotFoundError(`emergency override ${overrideId} does not exist`);
  if (row.status !== expected) {
    throw new FailedPreconditionError(`emergency override ${overrideId} is ${row.status}, not ${expected}`);
  }
  const before = overrideRowToDomain(row);
  const after: EmergencyOverride = { ...before, ...change };
  const { usageCount: _count, lastUsedAt: _last, ...columns } = overrideToRow(after);
  // The status condition makes the transition safe even without the serialising counter bump; usage is left alone.
  const updated = await tx.nativeUpdate(EmergencyOverrideRowSchema, { overrideId, status: expected }, columns);
  if (updated !== 1) throw new FailedPreconditionError(`emergency override ${overrideId} is no longer ${expected}`);
  const recorded = note === "" ? after : { ...after, note };
  return { value: after, ids: [overrideId], events: [overrideEvent(kind, after, before, recorded, meta)] };
}

/**
 * Adds counted uses in the caller's transaction; resolves with the number of overrides updated (unknown ids are
 * skipped). Each UPDATE adds to the stored values in SQL, so concurrent flushes of several replicas add up without
 * serialising on the change counter.
 */
export async function addUsageRows(tx: EntityManager, usage: readonly OverrideUsage[]): Promise<number> {
  const merged = new Map<string, { count: number; lastUsedAt: number }>();
  for (const u of usage) {
    if (u.count <= 0) continue;
    const seen = merged.get(u.overrideId);
    merged.set(u.overrideId, {
      count: (seen?.count ?? 0) + u.count,
      lastUsedAt: Math.max(seen?.lastUsedAt ?? 0, u.lastUsedAt),
    });
  }
  let updated = 0;
  // In id order, so two flushes touching the same overrides lock their rows in the same order.
  for (const [overrideId, add] of [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    updated += await tx.nativeUpdate(
      EmergencyOverrideRowSchema,
      { overrideId },
      {
        usageCount: raw('"usage_count" + ?', [add.count]),
        lastUsedAt: raw('case when "last_used_at" is null or "last_used_at" < ? then ? else "last_used_at" end', [add.lastUsedAt, add.lastUsedAt]),
      },
    );
  }
  // Each decision an override allowed is already in the audit chain (OVERRIDE_USED, written with the decision).
  return updated;
}

export async function findOverride(em: EntityManager, overrideId: string): Promise<EmergencyOverride | undefined> {
  const row = await em.findOne(EmergencyOverrideRowSchema, { overrideId });
  return row ? overrideRowToDomain(row) : undefined;
}

export async function listOverrideRows(em: EntityManager, query: ListOverridesQuery): Promise<EmergencyOverride[]> {
  if (query.limit <= 0) return [];
  if (query.tenantIn !== undefined && query.tenantIn.length === 0) return [];
  const conditions: FilterQuery<EmergencyOverrideRow>[] = [];
  if (query.tenantId !== "") conditions.push({ tenantId: query.tenantId });
  if (query.tenantIn !== undefined) conditions.push({ tenantId: { $in: [...new Set(query.tenantIn)] } });
  if (!query.includeInactive) conditions.push({ status: { $in: ["PENDING", "ACTIVE"] } });
  if (query.after) {
    const { requestedAt, overrideId } = query.after;
    conditions.push({ $or: [{ requestedAt: { $lt: requestedAt } }, { requestedAt, overrideId: { $lt: overrideId } }] });
  }
  const rows = await em.find(EmergencyOverrideRowSchema, conditions.length > 0 ? { $and: conditions } : {}, {
    orderBy: { requestedAt: "desc", overrideId: "desc" },
    limit: query.limit,
  });
  return rows.map(overrideRowToDomain);
}

/** The overrides decisions may use: the ACTIVE ones (expiry is checked per decision). */
export async function activeOverrides(em: EntityManager): Promise<EmergencyOverride[]> {
  const rows = await em.find(EmergencyOverrideRowSchema, { status: "ACTIVE" }, { orderBy: { overrideId: "asc" } });
  return rows.map(overrideRowToDomain);
}

/** Current state of these overrides, by id order. */
export async function overridesByIds(em: EntityManager, ids: readonly string[]): Promise<EmergencyOverride[]> {
  if (ids.length === 0) return [];
  const rows = await em.find(EmergencyOverrideRowSchema, { overrideId: { $in: [...ids] } }, { orderBy: { overrideId: "asc" } });
  return rows.map(overrideRowToDomain);
}
