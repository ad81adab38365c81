import { EntitySchema } from "@mikro-orm/core";

/** The single row (id = STORE_STATE_ID) holding the store-wide change counter. */
export interface StoreState {
  id: number;
  /**
   * Advanced by exactly one inside every committed write transaction; it becomes the snapshot version. The
   * UPDATE that advances it is the first statement of each write, so it also serialises writers (a row lock on
   * Postgres, the write lock on SQLite) before they read anything.
   */
  changeVersion: number;
}

export const STORE_STATE_ID = 1;

export const StoreStateSchema = new EntitySchema<StoreState>({
  name: "StoreState",
  tableName: "store_state",
  properties: {
    id: { type: "integer", primary: true, autoincrement: false },
    // Explicit column name: the store advances it with raw SQL (`change_version = change_version + 1`).
    changeVersion: { type: "integer", fieldName: "change_version" },
  },
});
