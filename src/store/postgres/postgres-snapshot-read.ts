import { IsolationLevel, type EntityManager } from "@mikro-orm/core";
import { policyRecordToStored } from "../policy-record-mapping.js";
import type { SnapshotData } from "../policy-store.js";
import { regionStatusRowToRecord } from "../region-status-mapping.js";
import { policyRecordOfRow, regionStatusRowOf, type RegionStatusColumns } from "./postgres-rows.js";

/**
 * loadSnapshotData with plain SQL in one REPEATABLE READ, read-only transaction: the same rows in the same order as
 * the shared store's entity query, without entity hydration or an identity map, which at hundreds of thousands of
 * policies is most of a replica's cold start and of its peak memory.
 */
export async function readPostgresSnapshotData(em: EntityManager): Promise<SnapshotData> {
  return em.fork().transactional(
    async (tx) => {
      const connection = tx.getConnection();
      const ctx = tx.getTransactionContext();
      const [state] = await connection.execute<{ change_version: number | string }[]>(
        "select change_version from store_state where id = 1",
        [],
        "all",
        ctx,
      );
      if (state === undefined) throw new Error("store_state row is missing; the initial migration inserts it");
      const policies = await connection.execute<Record<string, unknown>[]>(
        "select * from policy order by tenant_id, learner_id",
        [],
        "all",
        ctx,
      );
      const regions = await connection.execute<RegionStatusColumns[]>("select * from region_status order by region_id", [], "all", ctx);
      return {
        policies: policies.map((row) => policyRecordToStored(policyRecordOfRow(row))),
        regionStatuses: regions.map((row) => regionStatusRowToRecord(regionStatusRowOf(row))),
        changeVersion: Number(state.change_version),
      };
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}
