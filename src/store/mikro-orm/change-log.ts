import type { EntityManager } from "@mikro-orm/core";
import type { EmergencyOverride } from "../../domain/emergency-override.js";
import { ChangeLogRowSchema, type ChangeLogRow } from "../entities/change-log-row.js";
import { PolicyRecordSchema, type PolicyRecord } from "../entities/policy-record.js";
import { RegionStatusRowSchema, type RegionStatusRow } from "../entities/region-status-row.js";
import { STORE_STATE_ID, StoreStateSchema } from "../entities/store-state.js";
import { policyRecordToStored } from "../policy-record-mapping.js";
import type { ChangeKind, ChangeRecord, ChangesSince } from "../policy-store.js";
import { regionStatusRowToRecord } from "../region-status-mapping.js";
import { overridesByIds } from "./override-rows.js";

/** Ids per `IN (...)` list: far below SQLite's and Postgres's bound-parameter limits. */
const IN_LIST_CHUNK = 500;

/** Writes the change row of a write; call inside the write's transaction. */
export async function appendChange(tx: EntityManager, change: ChangeRecord): Promise<void> {
  const row: ChangeLogRow = { ...change, ids: [...change.ids], publishedAt: null };
  await tx.insert(ChangeLogRowSchema, row);
}

/** Reads the changes after `since` and the current state they touched; call inside one snapshot transaction. */
export async function readChangesSince(tx: EntityManager, since: number): Promise<ChangesSince | undefined> {
  const { changeVersion } = await tx.findOneOrFail(StoreStateSchema, { id: STORE_STATE_ID });
  if (!Number.isInteger(since) || since < 0 || since > changeVersion) return undefined;
  const rows = await tx.find(ChangeLogRowSchema, { version: { $gt: since } }, { orderBy: { version: "asc" } });
  // A gap (pruned rows, or writes from before the change log existed) means the log no longer reaches back.
  if (rows.length !== changeVersion - since || rows.some((r, i) => r.version !== since + 1 + i)) return undefined;
  const changes = rows.map(changeLogRowToRecord);

  const policyIds = touched(changes, "policy");
  const records: PolicyRecord[] = [];
  for (const ids of chunks(policyIds)) records.push(...(await tx.find(PolicyRecordSchema, { policyId: { $in: ids } })));
  const live = new Set(records.map((r) => r.policyId));
  records.sort((a, b) => compare(a.tenantId, b.tenantId) || compare(a.learnerId, b.learnerId));

  const statuses: RegionStatusRow[] = [];
  for (const ids of chunks(touched(changes, "region"))) {
    statuses.push(...(await tx.find(RegionStatusRowSchema, { regionId: { $in: ids } })));
  }
  statuses.sort((a, b) => compare(a.regionId, b.regionId));

  const overrides: EmergencyOverride[] = [];
  for (const ids of chunks(touched(changes, "override"))) overrides.push(...(await overridesByIds(tx, ids)));
  overrides.sort((a, b) => compare(a.overrideId, b.overrideId));

  return {
    changes,
    policies: records.map(policyRecordToStored),
    deletedPolicyIds: policyIds.filter((id) => !live.has(id)),
    regionStatuses: statuses.map(regionStatusRowToRecord),
    overrides,
    changeVersion,
  };
}

/** The outbox: unpublished rows, oldest first. */
export async function readUnpublished(em: EntityManager, limit: number): Promise<ChangeRecord[]> {
  if (limit <= 0) return [];
  const rows = await em.find(ChangeLogRowSchema, { publishedAt: null }, { orderBy: { version: "asc" }, limit });
  return rows.map(changeLogRowToRecord);
}

/** Sets published_at on the rows that have none yet, so marking twice keeps the first time. */
export async function markRowsPublished(tx: EntityManager, versions: readonly number[], now: number): Promise<void> {
  for (const chunk of chunks([...new Set(versions)])) {
    await tx.nativeUpdate(ChangeLogRowSchema, { version: { $in: chunk }, publishedAt: null }, { publishedAt: now });
  }
}

// The cast trusts the database: only ChangeKind values are ever written through appendChange.
function changeLogRowToRecord(row: ChangeLogRow): ChangeRecord {
  return { version: row.version, kind: row.kind as ChangeKind, ids: [...row.ids], committedAt: row.committedAt };
}

/** Ids named by changes of one kind, each once, in the order first named. */
function touched(changes: readonly ChangeRecord[], kind: ChangeKind): string[] {
  return [...new Set(changes.filter((c) => c.kind === kind).flatMap((c) => c.ids))];
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IN_LIST_CHUNK) out.push(items.slice(i, i + IN_LIST_CHUNK));
  return out;
}

/** Plain string order, as the databases sort these columns (SQLite by bytes, Postgres with COLLATE "C"). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
