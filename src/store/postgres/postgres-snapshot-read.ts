import type { Knex } from "@mikro-orm/knex";
import { overrideRowOfColumns, overrideRowToDomain } from "../emergency-override-mapping.js";
import type { SnapshotData } from "../policy-store.js";
import { regionStatusRowToRecord } from "../region-status-mapping.js";
import { storedPolicyOfRow, regionStatusRowOf, type RegionStatusColumns } from "./postgres-rows.js";

/**
 * loadSnapshotData with plain SQL in one REPEATABLE READ, read-only transaction: the same rows in the same order as
 * the shared store's entity query, but straight from the driver (no entity hydration, no identity map, no result
 * post-processing), which at hundreds of thousands of policies is most of a replica's cold start and peak memory.
 */
export async function readPostgresSnapshotData(knex: Knex): Promise<SnapshotData> {
  return knex.transaction(
    async (trx) => {
      const state = await trx.raw<{ rows: { change_version: number | string }[] }>("select change_version from store_state where id = 1");
      const [row] = state.rows;
      if (row === undefined) throw new Error("store_state row is missing; the initial migration inserts it");
      const policies = await trx.raw<{ rows: Record<string, unknown>[] }>("select * from policy order by tenant_id, learner_id");
      const regions = await trx.raw<{ rows: RegionStatusColumns[] }>("select * from region_status order by region_id");
      const overrides = await trx.raw<{ rows: Record<string, unknown>[] }>(
        "select * from emergency_override where status = 'ACTIVE' order by override_id",
      );
      return {
        policies: policies.rows.map(storedPolicyOfRow),
        regionStatuses: regions.rows.map((r) => regionStatusRowToRecord(regionStatusRowOf(r))),
        overrides: overrides.rows.map((o) => overrideRowToDomain(overrideRowOfColumns(o))),
        changeVersion: Number(row.change_version),
      };
    },
    { isolationLevel: "repeatable read", readOnly: true },
  );
}
