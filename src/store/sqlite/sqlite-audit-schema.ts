import { UniqueConstraintViolationException, type EntityManager } from "@mikro-orm/core";
import { GENESIS_HASH } from "../../audit/audit-hash.js";
import { AUDIT_CHAIN_HEAD_ID, AuditChainHeadSchema } from "../entities/audit-chain-head.js";

/**
 * The audit tables are append-only: SQLite refuses UPDATE and DELETE on them, and moving the chain head
 * backwards or deleting it. Created at every open (IF NOT EXISTS), so a dropped trigger comes back at the next
 * start; tampering in between is what VerifyAuditChain finds. An append's no-op head update (its way of taking
 * the write lock) keeps seq and hash, so it passes.
 */
const TRIGGERS = [
  ...["audit_entry", "audit_violation"].flatMap((table) => [
    `create trigger if not exists "${table}_no_update" before update on "${table}"
     begin select raise(abort, '${table} is append-only: UPDATE refused'); end`,
    `create trigger if not exists "${table}_no_delete" before delete on "${table}"
     begin select raise(abort, '${table} is append-only: DELETE refused'); end`,
  ]),
  `create trigger if not exists "audit_chain_head_forward_only" before update on "audit_chain_head"
   when new."id" is not old."id" or new."seq" < old."seq" or (new."seq" = old."seq" and new."hash" is not old."hash")
   begin select raise(abort, 'audit_chain_head only moves forward'); end`,
  `create trigger if not exists "audit_chain_head_no_delete" before delete on "audit_chain_head"
   begin select raise(abort, 'audit_chain_head cannot be deleted'); end`,
];

/** Creates the triggers and seeds the chain head (seq 0, the genesis hash) when missing. */
export async function prepareSqliteAudit(em: EntityManager): Promise<void> {
  const connection = em.getConnection();
  for (const statement of TRIGGERS) await connection.execute(statement, [], "run");
  if (await em.findOne(AuditChainHeadSchema, { id: AUDIT_CHAIN_HEAD_ID })) return;
  try {
    await em.insert(AuditChainHeadSchema, { id: AUDIT_CHAIN_HEAD_ID, seq: 0, hash: GENESIS_HASH });
  } catch (err) {
    // Another process opening the same file seeded it first.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
}
