import { EntitySchema } from "@mikro-orm/core";
import { epochMillisType } from "./policy-field-columns.js";

/**
 * The single row (id = AUDIT_CHAIN_HEAD_ID) naming the chain's last entry. Every append locks it first (SELECT …
 * FOR UPDATE on Postgres, the write lock on SQLite), so replicas append one batch at a time and never fork the
 * chain. A trigger refuses deleting it or moving it backwards.
 */
export interface AuditChainHead {
  id: number;
  seq: number;
  hash: string;
}

export const AUDIT_CHAIN_HEAD_ID = 1;

export const AuditChainHeadSchema = new EntitySchema<AuditChainHead>({
  name: "AuditChainHead",
  tableName: "audit_chain_head",
  properties: {
    id: { type: "integer", primary: true, autoincrement: false },
    seq: { type: epochMillisType },
    hash: { type: "text" },
  },
});
