import type { EntityManager } from "@mikro-orm/core";
import { STORE_STATE_ID } from "../entities/store-state.js";

/**
 * Advances the store's change counter by one and returns the new value; the first statement of every write
 * transaction. One UPDATE, so it is atomic and takes the write lock (SQLite) or the row lock (Postgres) before the
 * write reads anything: writers are serialised, and each sees the previous writer's commit. RETURNING (Postgres,
 * SQLite 3.35+) reads the new value in the same round trip.
 */
export async function advanceChangeVersion(tx: EntityManager): Promise<number> {
  const rows = await tx
    .getConnection()
    .execute<{ change_version: number | string }[]>(
      'update "store_state" set "change_version" = "change_version" + 1 where "id" = ? returning "change_version"',
      [STORE_STATE_ID],
      "all",
      tx.getTransactionContext(),
    );
  const row = rows[0];
  if (row === undefined) throw new Error("store_state row is missing; open() seeds it (SQLite) or the migration does");
  return Number(row.change_version);
}
