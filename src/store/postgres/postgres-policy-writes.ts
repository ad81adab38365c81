import pg from "pg";
import { adminContent } from "../../audit/audit-content.js";
import { policyEvent } from "../../audit/admin-events.js";
import type { AdminAuditRecord } from "../../audit/audit-record.js";
import { NotFoundError, UnavailableError } from "../../domain/errors.js";
import type { PolicyFields, StoredPolicy } from "../../domain/policy.js";
import { chainBatches, pgChainInsert } from "../mikro-orm/audit-chain.js";
import { alreadyExists, versionConflict } from "../mikro-orm/store-errors.js";
import { newPolicyRecord, policyFieldsToColumns, policyRecordToStored } from "../policy-record-mapping.js";
import type { Committed, PolicyStore, PolicyWriteCheck, PolicyWriteState, WriteMeta } from "../policy-store.js";
import { retryTransient, type TransientErrors } from "../retry-transient.js";
import { storedPolicyOfRow } from "./postgres-rows.js";
import type { RawConnection, RawConnectionPool, StatementResult } from "./raw-connection.js";

export type PolicyWrites = Pick<PolicyStore, "createPolicy" | "updatePolicy" | "deletePolicy">;

/**
 * The policy writes of the Postgres store in two round trips each, where the shared MikroORM store takes about a
 * dozen: a replica's write latency is mostly round trips and the ORM's work between them, and it is the largest
 * part of how long a change takes to reach every replica.
 *
 * 1. `begin`, advance the change counter (which serialises every writer, as in the shared store), read the state the
 *    caller's check needs, apply the policy row's change, lock the audit chain head (always after the counter);
 * 2. in JS: the check, the store's own checks (missing, existing, stale version), the audit entry's hash;
 *    then the history row, the change-log (outbox) row, the audit entry, the chain head and `commit`, together.
 *
 * Any failure or refusal rolls the transaction back, so, as in the shared store, a write commits all of it or
 * nothing. Values go into the statements as escaped literals: a simple query takes no parameters.
 */
export function createPostgresPolicyWrites(pool: RawConnectionPool, errors: TransientErrors): PolicyWrites {
  /** Runs `work` on one connection; `work` begins and commits. Rolls back whatever it left open when it fails. */
  async function transaction<T>(work: (connection: RawConnection) => Promise<T>): Promise<T> {
    return retryTransient(async () => {
      const { connection, release } = await pool.acquire();
      try {
        return await work(connection);
      } catch (err) {
        // A connection that cannot even roll back is closed, and the pool replaces it.
        await connection.query("rollback").catch(() => connection.end().catch(() => undefined));
        throw err;
      } finally {
        release();
      }
    }, errors);
  }

  /** The first round trip: statements 0 to 4 (begin, counter, state, policy change, chain head). */
  async function begin(connection: RawConnection, stateSql: string, changeSql: string) {
    const results = await run(connection, ["begin", ADVANCE_COUNTER, stateSql, changeSql, LOCK_CHAIN_HEAD]);
    const counter = results[1]?.rows[0];
    const head = results[4]?.rows[0];
    if (counter === undefined) throw new Error("store_state row is missing; the initial migration inserts it");
    if (head === undefined) throw new Error("audit_chain_head row is missing; the audit migration inserts it");
    return {
      changeVersion: Number(counter.change_version),
      policies: (results[2]?.rows ?? []).map(storedPolicyOfRow),
      changed: results[3]?.rowCount ?? 0,
      head: { seq: Number(head.seq), hash: String(head.hash) },
    };
  }

  /** The second round trip: the history row, the change-log row, the audit entry, the chain head, commit. */
  async function commit(
    connection: RawConnection,
    opened: { changeVersion: number; head: { seq: number; hash: string } },
    history: string,
    policyId: string,
    meta: WriteMeta,
    event: AdminAuditRecord,
  ): Promise<void> {
    const { entries, batches } = chainBatches(opened.head, [adminContent(event)]);
    const last = entries[entries.length - 1]!;
    await run(connection, [
      history,
      `insert into "change_log" ("version", "kind", "ids", "committed_at", "published_at") values ` +
        `(${int(opened.changeVersion)}, 'policy', ${json([policyId])}, ${int(meta.now)}, null)`,
      ...batches.map((b) => pgChainInsert(b.violations, text(b.rows))),
      `update "audit_chain_head" set "seq" = ${int(last.seq)}, "hash" = ${text(last.hash)} where "id" = 1`,
      "commit",
    ]);
  }

  return {
    async createPolicy(fields: PolicyFields, meta: WriteMeta, check?: PolicyWriteCheck): Promise<Committed<StoredPolicy>> {
      const { tenantId, learnerId } = fields;
      const policy = policyRecordToStored(newPolicyRecord(fields, meta));
      return transaction(async (connection) => {
        const opened = await begin(
          connection,
          `select * from "policy" where "tenant_id" = ${text(tenantId)} and "learner_id" in ('', ${text(learnerId)})`,
          // The unique (tenant, learner) constraint is checked below from the state read before; nothing else can
          // insert meanwhile, since every writer holds the counter's lock until it commits.
          `insert into "policy" ${valuesOf(policyRow(policy))} on conflict do nothing`,
        );
        const existing = opened.policies.find((p) => p.learnerId === learnerId);
        check?.({ current: existing, tenantPolicy: opened.policies.find((p) => p.learnerId === ""), learnerPolicies: [] });
        if (existing !== undefined) throw alreadyExists(existing);
        if (opened.changed !== 1) throw new UnavailableError(`policy id collision, retry: ${policy.policyId}`);
        const event = policyEvent("POLICY_CREATED", undefined, policy, meta);
        await commit(connection, opened, historyRow(policy, { deleted: false }), policy.policyId, meta, event);
        return { value: policy, changeVersion: opened.changeVersion };
      });
    },

    async updatePolicy(policyId, fields, expectedVersion, meta, check): Promise<Committed<StoredPolicy>> {
      const set = fieldColumns(fields)
        .concat([
          ["version", int(expectedVersion + 1)],
          ["updated_at", int(meta.now)],
          ["updated_by", text(meta.actor)],
        ])
        .map(([column, value]) => `"${column}" = ${value}`)
        .join(", ");
      return transaction(async (connection) => {
        const opened = await begin(
          connection,
          stateOfPolicy(policyId),
          // Tenant and learner identify the policy and never change; the service layer rejects attempts.
          `update "policy" set ${set} where "policy_id" = ${text(policyId)} and "version" = ${int(expectedVersion)}`,
        );
        const current = checked(opened.policies, policyId, expectedVersion, check);
        if (opened.changed !== 1) throw versionConflict(policyId, expectedVersion, current.version);
        const policy = policyRecordToStored({
          ...policyFieldsToColumns({ ...fields, tenantId: current.tenantId, learnerId: current.learnerId }),
          policyId,
          version: expectedVersion + 1,
          createdAt: current.createdAt,
          createdBy: current.createdBy,
          updatedAt: meta.now,
          updatedBy: meta.actor,
        });
        const event = policyEvent("POLICY_UPDATED", current, policy, meta);
        await commit(connection, opened, historyRow(policy, { deleted: false }), policyId, meta, event);
        return { value: policy, changeVersion: opened.changeVersion };
      });
    },

    async deletePolicy(policyId, expectedVersion, meta, check): Promise<Committed<StoredPolicy>> {
      return transaction(async (connection) => {
        const opened = await begin(
          connection,
          stateOfPolicy(policyId),
          `delete from "policy" where "policy_id" = ${text(policyId)} and "version" = ${int(expectedVersion)}`,
        );
        const last = checked(opened.policies, policyId, expectedVersion, check);
        if (opened.changed !== 1) throw versionConflict(policyId, expectedVersion, last.version);
        // The tombstone carries the last content; the policy as it stood when deleted is the write's value.
        const tombstone = historyRow(last, { deleted: true, version: last.version + 1, writtenAt: meta.now, writtenBy: meta.actor });
        const event = policyEvent("POLICY_DELETED", last, undefined, meta);
        await commit(connection, opened, tombstone, policyId, meta, event);
        return { value: last, changeVersion: opened.changeVersion };
      });
    },
  };
}

/** The caller's check on the state read, then the store's own: the policy exists at the expected version. */
function checked(
  policies: readonly StoredPolicy[],
  policyId: string,
  expectedVersion: number,
  check: PolicyWriteCheck | undefined,
): StoredPolicy {
  const current = policies.find((p) => p.policyId === policyId);
  if (check !== undefined) {
    const state: PolicyWriteState = {
      current,
      tenantPolicy: policies.find((p) => p.learnerId === ""),
      learnerPolicies: current?.learnerId === "" ? policies.filter((p) => p.learnerId !== "") : [],
    };
    check(state);
  }
  if (current === undefined) throw new NotFoundError(`policy ${policyId} not found`);
  if (current.version !== expectedVersion) throw versionConflict(policyId, expectedVersion, current.version);
  return current;
}

async function run(connection: RawConnection, statements: readonly string[]): Promise<StatementResult[]> {
  const results = await connection.query(statements.join(";\n"));
  return Array.isArray(results) ? results : [results];
}

const ADVANCE_COUNTER = 'update "store_state" set "change_version" = "change_version" + 1 where "id" = 1 returning "change_version"';
/** After the counter, as in every writer: counter, then chain head, never the reverse. */
const LOCK_CHAIN_HEAD = 'select "seq", "hash" from "audit_chain_head" where "id" = 1 for update';

/**
 * The PolicyWriteState of an update or delete in one statement: the policy, its tenant's own policy, and, when the
 * policy is the tenant's own, every learner policy of the tenant (served by the (tenant_id, learner_id) index).
 */
function stateOfPolicy(policyId: string): string {
  const id = text(policyId);
  return (
    `select p.* from "policy" p join (select "tenant_id", "learner_id" from "policy" where "policy_id" = ${id}) t ` +
    `on p."tenant_id" = t."tenant_id" where t."learner_id" = '' or p."learner_id" = '' or p."policy_id" = ${id} ` +
    `order by p."learner_id"`
  );
}

type Columns = [column: string, literal: string][];

/** The columns a write sets from the caller's fields, as literals (identity and provenance are set separately). */
function fieldColumns(fields: PolicyFields): Columns {
  return [
    ["primary_region", text(fields.primaryRegion)],
    ["allowed_regions", json(fields.allowedRegions)],
    ["prohibited_regions", json(fields.prohibitedRegions)],
    ["compliance_frameworks", json(fields.complianceFrameworks)],
    ["data_classification", optional(fields.dataClassification, text)],
    ["allow_cross_region_failover", optional(fields.allowCrossRegionFailover, (b) => (b ? "true" : "false"))],
    ["data_retention_days", optional(fields.dataRetentionDays, int)],
    ["emergency_contact", text(fields.emergencyContact)],
    ["age_band", optional(fields.ageBand, text)],
    ["transfer_safeguards", json(fields.transferSafeguards)],
    ["inference_providers", json(fields.inferenceProviders)],
  ];
}

function policyRow(p: StoredPolicy): Columns {
  return [
    ["policy_id", text(p.policyId)],
    ["tenant_id", text(p.tenantId)],
    ["learner_id", text(p.learnerId)],
    ...fieldColumns(p),
    ["created_at", int(p.createdAt)],
    ["created_by", text(p.createdBy)],
    ["version", int(p.version)],
    ["updated_at", int(p.updatedAt)],
    ["updated_by", text(p.updatedBy)],
  ];
}

/** The policy_version insert of `p`: a live version as written, or (with `deleted`) the tombstone after it. */
function historyRow(
  p: StoredPolicy,
  history: { deleted: boolean; version?: number; writtenAt?: number; writtenBy?: string },
): string {
  const columns: Columns = [
    ["policy_id", text(p.policyId)],
    ["version", int(history.version ?? p.version)],
    ["deleted", history.deleted ? "true" : "false"],
    ["tenant_id", text(p.tenantId)],
    ["learner_id", text(p.learnerId)],
    ...fieldColumns(p),
    ["created_at", int(p.createdAt)],
    ["created_by", text(p.createdBy)],
    ["written_at", int(history.writtenAt ?? p.updatedAt)],
    ["written_by", text(history.writtenBy ?? p.updatedBy)],
  ];
  return `insert into "policy_version" ${valuesOf(columns)}`;
}

function valuesOf(columns: Columns): string {
  return `(${columns.map(([c]) => `"${c}"`).join(", ")}) values (${columns.map(([, v]) => v).join(", ")})`;
}

// Literals, quoted by node-postgres (doubled quotes; E'…' with doubled backslashes when the text has one, which
// reads the same whatever standard_conforming_strings says).
const text: (value: string) => string = pg.escapeLiteral;

function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a whole number for SQL: ${value}`);
  return String(value);
}

function json(value: readonly string[]): string {
  return `${text(JSON.stringify(value))}::jsonb`;
}

function optional<T>(value: T | undefined, literal: (v: T) => string): string {
  return value === undefined ? "null" : literal(value);
}
