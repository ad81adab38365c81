import { raw, type EntityManager } from "@mikro-orm/core";
import { STORE_STATE_ID, StoreStateSchema } from "../entities/store-state.js";

/**
 * Advances the store's change counter by one and returns the new value; the first statement of every write
 * transaction. One UPDATE, so it is atomic and takes the write lock (SQLite) or the row lock (Postgres) before the
 * write reads anything: writers are serialised, and each sees the previous writer's commit.
 */
export async function advanceChangeVersion(tx: EntityManager): Promise<number> {
  const increment = { changeVersion: raw("change_version + 1") };
  const updated = await tx.nativeUpdate(StoreStateSchema, { id: STORE_STATE_ID }, increment);
  if (updated !== 1) throw new Error("store_state row is missing; open() seeds it (SQLite) or the migration does");
  const state = await tx.findOneOrFail(StoreStateSchema, { id: STORE_STATE_ID });
  return state.changeVersion;
}
