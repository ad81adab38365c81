import { overrideRowOfColumns, overrideRowToDomain } from "../emergency-override-mapping.js";
import type { ChangeKind, ChangesSince } from "../policy-store.js";
import { regionStatusRowToRecord } from "../region-status-mapping.js";
import { storedPolicyOfRow, regionStatusRowOf, type RegionStatusColumns } from "./postgres-rows.js";
import { runStatement, type RawConnectionPool } from "./raw-connection.js";

/**
 * loadChangesSince in one statement, so one round trip: a replica runs it for every change it hears of, so it is
 * on the propagation path. A single statement reads one snapshot even without a transaction, so the result is as
 * consistent as the shared store's REPEATABLE READ transaction of several statements, and means the same: the
 * changes after `since` (undefined when the change log no longer holds every one of them), the current state of
 * the policies and regions they name, and the change counter.
 */
const SQL = `
with params as (select $1::bigint as since),
state as (select change_version from store_state where id = 1),
changes as (
  select version, kind, ids, committed_at from change_log
  where version > (select since from params) and version <= (select change_version from state)),
touched_policies as (select distinct jsonb_array_elements_text(ids) as id from changes where kind = 'policy'),
touched_regions as (select distinct jsonb_array_elements_text(ids) as id from changes where kind = 'region'),
touched_overrides as (select distinct jsonb_array_elements_text(ids) as id from changes where kind = 'override')
select
  (select change_version from state) as change_version,
  (select coalesce(json_agg(c order by c.version), '[]'::json) from changes c) as changes,
  (select coalesce(json_agg(p), '[]'::json) from policy p where p.policy_id in (select id from touched_policies)) as policies,
  (select coalesce(json_agg(t.id), '[]'::json) from touched_policies t
     where not exists (select 1 from policy p where p.policy_id = t.id)) as deleted,
  (select coalesce(json_agg(r), '[]'::json) from region_status r where r.region_id in (select id from touched_regions)) as regions,
  (select coalesce(json_agg(o order by o.override_id), '[]'::json) from emergency_override o
     where o.override_id in (select id from touched_overrides)) as overrides`;

interface Row {
  change_version: number | string;
  changes: { version: number; kind: string; ids: string[]; committed_at: number }[];
  policies: Record<string, unknown>[];
  deleted: string[];
  regions: RegionStatusColumns[];
  overrides: Record<string, unknown>[];
}

export async function readPostgresChangesSince(pool: RawConnectionPool, since: number): Promise<ChangesSince | undefined> {
  if (!Number.isInteger(since) || since < 0) return undefined;
  // Prepared once per connection: every replica runs it for every change it hears of.
  const result = await runStatement(pool, { name: "residency_changes_since_v1", text: SQL, values: [since] });
  const row = result.rows[0] as unknown as Row;
  const changeVersion = Number(row.change_version);
  if (since > changeVersion) return undefined;
  const changes = row.changes.map((c) => ({
    version: Number(c.version),
    kind: c.kind as ChangeKind,
    ids: [...c.ids],
    committedAt: Number(c.committed_at),
  }));
  // A gap (pruned rows, or writes from before the change log existed) means the log no longer reaches back.
  if (changes.length !== changeVersion - since || changes.some((c, i) => c.version !== since + 1 + i)) return undefined;
  const policies = row.policies.map(storedPolicyOfRow);
  policies.sort((a, b) => compare(a.tenantId, b.tenantId) || compare(a.learnerId, b.learnerId));
  const regionStatuses = row.regions
    .map(regionStatusRowOf)
    .sort((a, b) => compare(a.regionId, b.regionId))
    .map(regionStatusRowToRecord);
  // In the order the changes first named them, as the shared store reports them.
  const deleted = new Set(row.deleted);
  const deletedPolicyIds = [...new Set(changes.filter((c) => c.kind === "policy").flatMap((c) => c.ids))].filter((id) => deleted.has(id));
  const overrides = row.overrides.map((o) => overrideRowToDomain(overrideRowOfColumns(o)));
  return { changes, policies, deletedPolicyIds, regionStatuses, overrides, changeVersion };
}

/** Plain string order, as the shared store sorts (the columns are COLLATE "C"). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
