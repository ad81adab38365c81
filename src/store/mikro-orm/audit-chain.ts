import type { EntityManager } from "@mikro-orm/core";
import type { Knex } from "@mikro-orm/knex";
import type { AuditEntry, AuditEntryContent } from "../../audit/audit-entry.js";
import { chainWithCanonical, type ChainHead } from "../../audit/audit-hash.js";
import { AUDIT_CHAIN_HEAD_ID, AuditChainHeadSchema } from "../entities/audit-chain-head.js";
import type { AuditEntryRow } from "../entities/audit-entry-row.js";

/** The SQL dialect of a store's database, where a statement must differ. */
export type SqlDialect = "sqlite" | "postgresql";

/** Entries per INSERT statement (one JSON parameter each), bounding the statement's size. */
const INSERT_CHUNK = 1000;

/**
 * Locks the chain head for the rest of the transaction and reads it. Postgres: SELECT … FOR UPDATE, so appenders
 * on every replica queue on the row. SQLite: an UPDATE that changes nothing takes the database's write lock
 * before the read (a deferred transaction that read first could not upgrade once another process wrote).
 */
export async function lockChainHead(tx: EntityManager, dialect: SqlDialect): Promise<ChainHead> {
  const connection = tx.getConnection();
  const ctx = tx.getTransactionContext();
  if (dialect === "sqlite") {
    await connection.execute('update "audit_chain_head" set "seq" = "seq" where "id" = ?', [AUDIT_CHAIN_HEAD_ID], "run", ctx);
  }
  const lock = dialect === "postgresql" ? " for update" : "";
  const rows = await connection.execute<{ seq: number | string; hash: string }[]>(
    `select "seq", "hash" from "audit_chain_head" where "id" = ?${lock}`,
    [AUDIT_CHAIN_HEAD_ID],
    "all",
    ctx,
  );
  const row = rows[0];
  if (row === undefined) throw new Error("audit_chain_head row is missing; open() seeds it (SQLite) or the migration does");
  return { seq: Number(row.seq), hash: row.hash };
}

/**
 * Appends contents to the chain inside the caller's transaction: locks the head, hashes each entry onto the one
 * before, inserts the entries and their violation rows, moves the head. Returns the entries.
 */
export async function appendToChain(
  tx: EntityManager,
  dialect: SqlDialect,
  contents: readonly AuditEntryContent[],
): Promise<AuditEntry[]> {
  if (contents.length === 0) return [];
  const head = await lockChainHead(tx, dialect);
  const { entries, batches } = chainBatches(head, contents);
  const knex = tx.getTransactionContext<Knex.Transaction>();
  if (knex === undefined) throw new Error("appendToChain must run inside a transaction");
  for (const { rows, violations } of batches) {
    if (dialect === "postgresql") {
      await knex.raw(pgChainInsert(violations, "?"), [rows]);
    } else {
      await knex.raw(SQLITE_INSERT, [rows]);
      if (violations) await knex.raw(SQLITE_INSERT_VIOLATIONS, [rows]);
    }
  }
  const last = entries[entries.length - 1]!;
  await tx.nativeUpdate(AuditChainHeadSchema, { id: AUDIT_CHAIN_HEAD_ID }, { seq: last.seq, hash: last.hash });
  return entries;
}

/** One INSERT's worth of chained entries: the JSON parameter of the insert statements, and whether any has violations. */
export interface ChainBatch {
  readonly rows: string;
  readonly violations: boolean;
}

/** Chains `contents` onto `head` and packs the entries into the JSON parameters of the insert statements. */
export function chainBatches(head: ChainHead, contents: readonly AuditEntryContent[]): { entries: AuditEntry[]; batches: ChainBatch[] } {
  const { entries, canonical } = chainWithCanonical(head, contents);
  const batches: ChainBatch[] = [];
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const chunk = entries.slice(i, i + INSERT_CHUNK);
    // [hash, hash version, ...canonical array]: the row is the very text the hash covers, not a second serialization.
    let rows = "[";
    for (let k = 0; k < chunk.length; k++) {
      const entry = chunk[k]!;
      rows += `${k === 0 ? "" : ","}["${entry.hash}",${entry.hashVersion},${canonical[i + k]!.slice(1)}`;
    }
    rows += "]";
    batches.push({ rows, violations: chunk.some((entry) => entry.violations.length > 0) });
  }
  return { entries, batches };
}

/**
 * The Postgres statement inserting one ChainBatch; `param` is where its JSON goes: a placeholder, or an escaped
 * literal when the statement travels with others in one round trip (which takes no parameters).
 */
export function pgChainInsert(violations: boolean, param: string): string {
  const rowsCte = `with r as (select e from json_array_elements(${param}::json) as e)`;
  // A data-modifying CTE runs once whether or not it is referenced: one statement, one parse of the parameter.
  return violations ? `${rowsCte}, i as (${PG_ENTRIES}) ${PG_VIOLATIONS}` : `${rowsCte} ${PG_ENTRIES}`;
}

// The inserts take one bound parameter, a JSON array of [hash, hash version, ...canonical v1 array] rows, and the
// database unpacks it (json_array_elements on Postgres, json_each on SQLite). Through knex with a real bind
// parameter: MikroORM's execute() would inline the JSON as an escaped literal, and per-row, per-column
// parameters cost the ORM and the driver far more CPU on this process than the one string does. The violation
// index is derived in SQL from the same hashed content, so it cannot disagree with the entry.

/**
 * Where canonicalEntryV1 puts each column (see audit-hash.ts), counted in the row, which has the hash and the hash
 * version in front (so the canonical array's position k is the row's k + 2).
 */
const ENTRY_COLUMNS: readonly (readonly [column: string, source: number | "hash" | "hash_version", pgType: string])[] = [
  ["seq", 1, "bigint"], ["hash_version", "hash_version", "int"], ["prev_hash", 2, "text"], ["hash", "hash", "text"],
  ["kind", 3, "text"], ["occurred_at", 4, "bigint"], ["tenant_id", 5, "text"], ["learner_id", 6, "text"], ["actor", 7, "text"],
  ["request_id", 8, "text"], ["subject_id", 9, "text"], ["before_json", 10, "text"], ["after_json", 11, "text"],
  ["decision_id", 12, "text"], ["operation", 13, "text"], ["resource_type", 14, "text"], ["resource_id", 15, "text"],
  ["requested_region", 16, "text"], ["target_region", 17, "text"], ["caller_region", 18, "text"], ["primary_region", 19, "text"],
  ["allowed", 20, "boolean"], ["reason_codes", 21, "jsonb"], ["policy_id", 22, "text"], ["policy_version", 23, "int"],
  ["snapshot_version", 24, "bigint"], ["override_id", 25, "text"], ["violations", 26, "jsonb"],
];
/** Violation columns: from the entry's canonical array, or from the violation pair ("framework", "reason_code", "idx"). */
const VIOLATION_COLUMNS: readonly (readonly [column: string, source: number | "idx" | 0 | 1, pgType: string])[] = [
  ["seq", 1, "bigint"], ["idx", "idx", "int"], ["framework", 0, "pair"], ["reason_code", 1, "pair"], ["occurred_at", 4, "bigint"],
  ["decision_id", 12, "text"], ["tenant_id", 5, "text"], ["learner_id", 6, "text"], ["requested_region", 16, "text"],
  ["target_region", 17, "text"], ["primary_region", 19, "text"], ["actor", 7, "text"], ["request_id", 8, "text"],
];

const names = (columns: readonly (readonly [string, ...unknown[]])[]) => columns.map(([c]) => `"${c}"`).join(", ");

const at = (source: number | string) => (typeof source === "number" ? source + 2 : source === "hash" ? 0 : 1);
const pgEntry = ([, source, type]: (typeof ENTRY_COLUMNS)[number]) =>
  type === "jsonb" ? `(r.e->${at(source)})::jsonb` : `(r.e->>${at(source)})::${type}`;
const pgViolation = ([, source, type]: (typeof VIOLATION_COLUMNS)[number]) =>
  source === "idx" ? "(x.n - 1)::int" : type === "pair" ? `x.p->>${source}` : `(r.e->>${at(source)})::${type}`;
const PG_ENTRIES = `insert into "audit_entry" (${names(ENTRY_COLUMNS)}) select ${ENTRY_COLUMNS.map(pgEntry).join(", ")} from r`;
const PG_VIOLATIONS =
  `insert into "audit_violation" (${names(VIOLATION_COLUMNS)}) ` +
  `select ${VIOLATION_COLUMNS.map(pgViolation).join(", ")} from r cross join lateral json_array_elements(r.e->${at(26)}) with ordinality as x(p, n)`;

const sqliteEntry = ([, source, type]: (typeof ENTRY_COLUMNS)[number]) => `value${type === "jsonb" ? "->" : "->>"}${at(source)}`;
const sqliteViolation = ([, source, type]: (typeof VIOLATION_COLUMNS)[number]) =>
  source === "idx" ? "v.key" : type === "pair" ? `v.value->>${source}` : `e.value->>${at(source)}`;
export const SQLITE_INSERT = `insert into "audit_entry" (${names(ENTRY_COLUMNS)}) select ${ENTRY_COLUMNS.map(sqliteEntry).join(", ")} from jsonb_each(?)`;
export const SQLITE_INSERT_VIOLATIONS =
  `insert into "audit_violation" (${names(VIOLATION_COLUMNS)}) select ${VIOLATION_COLUMNS.map(sqliteViolation).join(", ")} ` +
  `from jsonb_each(?) as e, jsonb_each(e.value, '$[${at(26)}]') as v`;

/** A row as an entry (arrays copied, numbers as numbers whatever the driver returned). */
export function rowToEntry(r: AuditEntryRow): AuditEntry {
  return {
    seq: Number(r.seq),
    hashVersion: r.hashVersion,
    prevHash: r.prevHash,
    hash: r.hash,
    kind: r.kind as AuditEntry["kind"], // trusts the database: only AuditKind names are written
    occurredAt: Number(r.occurredAt),
    tenantId: r.tenantId,
    learnerId: r.learnerId,
    actor: r.actor,
    requestId: r.requestId,
    subjectId: r.subjectId,
    beforeJson: r.beforeJson,
    afterJson: r.afterJson,
    decisionId: r.decisionId,
    operation: r.operation,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    requestedRegion: r.requestedRegion,
    targetRegion: r.targetRegion,
    callerRegion: r.callerRegion,
    primaryRegion: r.primaryRegion,
    allowed: r.allowed,
    reasonCodes: [...r.reasonCodes],
    policyId: r.policyId,
    policyVersion: Number(r.policyVersion),
    snapshotVersion: Number(r.snapshotVersion),
    overrideId: r.overrideId,
    violations: r.violations.map(([framework, reasonCode]) => ({ framework, reasonCode })),
  };
}
