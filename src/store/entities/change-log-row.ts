import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/**
 * One row per committed write: the change log replicas catch up from, and the outbox the relay publishes from.
 * Written in the same transaction as the change it records, so a rolled-back write leaves no row.
 */
export interface ChangeLogRow {
  /** The change counter value the write produced (store_state.change_version after it). */
  version: number;
  /** A ChangeKind: "policy", "region" or "override". */
  kind: string;
  /** Policy, region or override ids, as a JSON array. */
  ids: string[];
  /** Epoch milliseconds of the write (WriteMeta.now). */
  committedAt: number;
  /** Epoch milliseconds when the outbox relay published it; null while unpublished. */
  publishedAt: number | null;
}

export const ChangeLogRowSchema = new EntitySchema<ChangeLogRow>({
  name: "ChangeLogRow",
  tableName: "change_log",
  properties: {
    version: { type: "integer", primary: true, autoincrement: false },
    kind: { type: "text" },
    ids: { type: "json" },
    committedAt: { type: epochMillisType },
    publishedAt: { type: epochMillisType, nullable: true },
  },
  // The relay asks for the oldest unpublished rows; a partial index stays as small as the backlog.
  // (SQLite and Postgres both support partial indexes and accept this statement as written.)
  indexes: [
    {
      name: "change_log_unpublished_index",
      expression:
        'create index "change_log_unpublished_index" on "change_log" ("version") where "published_at" is null',
    },
  ],
});
