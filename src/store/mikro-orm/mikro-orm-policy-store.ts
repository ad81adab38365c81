import { UniqueConstraintViolationException, type EntityManager, type FilterQuery } from "@mikro-orm/core";
import { adminContent } from "../../audit/audit-content.js";
import { policyEvent, regionStatusEvent } from "../../audit/admin-events.js";
import type { AdminAuditRecord } from "../../audit/audit-record.js";
import { NotFoundError, UnavailableError } from "../../domain/errors.js";
import type { PolicyFields, StoredPolicy } from "../../domain/policy.js";
import type { RegionStatus } from "../../domain/vocabulary.js";
import { PolicyRecordSchema, type PolicyRecord } from "../entities/policy-record.js";
import { PolicyVersionRecordSchema } from "../entities/policy-version-record.js";
import { RegionStatusRowSchema, type RegionStatusRow } from "../entities/region-status-row.js";
import { STORE_STATE_ID, StoreStateSchema } from "../entities/store-state.js";
import {
  liveVersionRow,
  newPolicyRecord,
  policyFieldsToColumns,
  policyRecordToStored,
  policyVersionFromStored,
  policyVersionToStored,
} from "../policy-record-mapping.js";
import type {
  ChangeKind,
  ChangeRecord,
  ChangesSince,
  Committed,
  ListPoliciesQuery,
  PolicyStore,
  PolicyWriteCheck,
  PolicyWriteState,
  RegionStatusRecord,
  SnapshotData,
  WriteMeta,
} from "../policy-store.js";
import { regionStatusRowToRecord } from "../region-status-mapping.js";
import { retryTransient } from "../retry-transient.js";
import type { AuditStore } from "../audit-store.js";
import { appendToChain } from "./audit-chain.js";
import { createMikroOrmAuditStore } from "./mikro-orm-audit-store.js";
import { advanceChangeVersion } from "./change-counter.js";
import { appendChange, markRowsPublished, readChangesSince, readUnpublished } from "./change-log.js";
import { activeOverrides, addUsageRows, findOverride, insertOverride, listOverrideRows, transitionOverrideRow } from "./override-rows.js";
import type { MikroOrmStoreDriver, OpenDatabase } from "./mikro-orm-store-driver.js";
import { alreadyExists, messageOf, versionConflict } from "./store-errors.js";

/** What a write changed, for its change-log row. */
interface Written<T> {
  readonly value: T;
  readonly ids: readonly string[];
  /** The audit events of the change, appended to the audit chain in the same transaction. */
  readonly events?: readonly AdminAuditRecord[];
}

/**
 * The PolicyStore on MikroORM, for every driver. Every write is one transaction that first advances the change
 * counter (which serialises writers: a row lock on Postgres, the write lock on SQLite) and last appends its
 * change-log row with the new counter value, so the policy, its history and its outbox row commit together.
 */
export function createMikroOrmPolicyStore(driver: MikroOrmStoreDriver): PolicyStore & AuditStore {
  let db: OpenDatabase | undefined;

  function fork(): EntityManager {
    if (!db) throw new UnavailableError(`policy store ${driver.location} is not open`);
    return db.em.fork();
  }

  const retrying = <T>(run: () => Promise<T>): Promise<T> => retryTransient(run, driver);

  async function write<T>(kind: ChangeKind, meta: WriteMeta, work: (tx: EntityManager) => Promise<Written<T>>) {
    return retrying(() =>
      fork().transactional(async (tx): Promise<Committed<T>> => {
        const changeVersion = await advanceChangeVersion(tx);
        const { value, ids, events } = await work(tx);
        await appendChange(tx, { version: changeVersion, kind, ids, committedAt: meta.now });
        // After the change counter: every writer locks the counter, then the audit chain head, never the reverse.
        if (events !== undefined) await appendToChain(tx, driver.dialect, events.map(adminContent));
        tx.clear(); // every statement ran already (insert, nativeUpdate): nothing for the commit-time flush to write
        return { value, changeVersion };
      }),
    );
  }

  async function read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await work(fork());
    } catch (err) {
      throw driver.toStoreError(err);
    }
  }

  /** Several reads that must see one committed state; read-only (nothing is flushed at commit). */
  async function snapshotRead<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return read((em) =>
      em.transactional(async (tx) => {
        const result = await work(tx);
        tx.clear();
        return result;
      }, driver.snapshotRead),
    );
  }

  /**
   * Loads the current row of an update or delete, runs the caller's check on the state around it, then checks the
   * expected version. Inside the write transaction, after the counter bump: no other write can change what it read.
   */
  async function currentForWrite(
    tx: EntityManager,
    policyId: string,
    expectedVersion: number,
    check: PolicyWriteCheck | undefined,
  ): Promise<PolicyRecord> {
    const record = await tx.findOne(PolicyRecordSchema, { policyId });
    if (check !== undefined) check(await writeState(tx, record, record?.tenantId, record?.learnerId === ""));
    if (!record) throw new NotFoundError(`policy ${policyId} not found`);
    if (record.version !== expectedVersion) throw versionConflict(policyId, expectedVersion, record.version);
    return record;
  }

  /** The state a check sees (PolicyWriteState): `current`, its tenant's policy, and its learners when asked. */
  async function writeState(
    tx: EntityManager,
    current: PolicyRecord | null,
    tenantId: string | undefined,
    withLearners: boolean,
  ): Promise<PolicyWriteState> {
    if (tenantId === undefined) return { current: undefined, tenantPolicy: undefined, learnerPolicies: [] };
    const tenantRecord =
      current?.learnerId === "" ? current : await tx.findOne(PolicyRecordSchema, { tenantId, learnerId: "" });
    const learners = withLearners
      ? await tx.find(PolicyRecordSchema, { tenantId, learnerId: { $ne: "" } }, { orderBy: { learnerId: "asc" } })
      : [];
    return {
      current: current ? policyRecordToStored(current) : undefined,
      tenantPolicy: tenantRecord ? policyRecordToStored(tenantRecord) : undefined,
      learnerPolicies: learners.map(policyRecordToStored),
    };
  }

  return {
    // The audit log lives in the same database, so admin events commit with the change they record.
    ...createMikroOrmAuditStore({ fork, read, retrying, dialect: driver.dialect }),

    async open() {
      if (db) return;
      db = await driver.connect();
    },

    async close() {
      const closing = db;
      db = undefined;
      await closing?.close(true);
    },

    async ping() {
      try {
        await fork().getConnection().execute("select 1");
      } catch (err) {
        const mapped = driver.toStoreError(err);
        if (mapped instanceof UnavailableError) throw mapped;
        throw new UnavailableError(`policy store ${driver.location} failed a ping: ${messageOf(err)}`, { cause: err });
      }
    },

    async loadSnapshotData(): Promise<SnapshotData> {
      return snapshotRead(async (tx) => {
        const records = await tx.find(PolicyRecordSchema, {}, { orderBy: { tenantId: "asc", learnerId: "asc" } });
        const statuses = await tx.find(RegionStatusRowSchema, {}, { orderBy: { regionId: "asc" } });
        const overrides = await activeOverrides(tx);
        const state = await tx.findOneOrFail(StoreStateSchema, { id: STORE_STATE_ID });
        return {
          policies: records.map(policyRecordToStored),
          regionStatuses: statuses.map(regionStatusRowToRecord),
          overrides,
          changeVersion: state.changeVersion,
        };
      });
    },

    async createPolicy(fields: PolicyFields, meta: WriteMeta, check?: PolicyWriteCheck): Promise<Committed<StoredPolicy>> {
      try {
        return await write("policy", meta, async (tx) => {
          const { tenantId, learnerId } = fields;
          const existing = await tx.findOne(PolicyRecordSchema, { tenantId, learnerId });
          if (check !== undefined) check(await writeState(tx, existing, tenantId, false));
          if (existing) throw alreadyExists(existing);
          const record = newPolicyRecord(fields, meta);
          await tx.insert(PolicyRecordSchema, record);
          const stored = policyRecordToStored(record);
          await tx.insert(PolicyVersionRecordSchema, liveVersionRow(stored));
          return { value: stored, ids: [stored.policyId], events: [policyEvent("POLICY_CREATED", undefined, stored, meta)] };
        });
      } catch (err) {
        // A concurrent writer (another process) may have won between our check and our insert.
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        const winner = await read((em) =>
          em.findOne(PolicyRecordSchema, { tenantId: fields.tenantId, learnerId: fields.learnerId }),
        );
        throw winner ? alreadyExists(winner) : new UnavailableError(`policy id collision, retry: ${err.message}`);
      }
    },

    async getPolicy(policyId: string, version?: number): Promise<StoredPolicy | undefined> {
      return read(async (em) => {
        if (version === undefined) {
          const record = await em.findOne(PolicyRecordSchema, { policyId });
          return record ? policyRecordToStored(record) : undefined;
        }
        // Tombstones are not versions of the policy; they only mark where its history ends.
        const row = await em.findOne(PolicyVersionRecordSchema, { policyId, version, deleted: false });
        return row ? policyVersionToStored(row) : undefined;
      });
    },

    async listPolicies(query: ListPoliciesQuery): Promise<StoredPolicy[]> {
      if (query.limit <= 0) return [];
      if (query.tenantIn !== undefined && query.tenantIn.length === 0) return [];
      const conditions: FilterQuery<PolicyRecord>[] = [];
      if (query.tenantId !== "") conditions.push({ tenantId: query.tenantId });
      if (query.tenantIn !== undefined) conditions.push({ tenantId: { $in: [...new Set(query.tenantIn)] } });
      if (query.after) {
        const { tenantId, learnerId } = query.after;
        conditions.push({ $or: [{ tenantId: { $gt: tenantId } }, { tenantId, learnerId: { $gt: learnerId } }] });
      }
      const records = await read((em) =>
        em.find(PolicyRecordSchema, conditions.length > 0 ? { $and: conditions } : {}, {
          orderBy: { tenantId: "asc", learnerId: "asc" },
          limit: query.limit,
        }),
      );
      return records.map(policyRecordToStored);
    },

    async updatePolicy(policyId, fields, expectedVersion, meta, check): Promise<Committed<StoredPolicy>> {
      return write("policy", meta, async (tx) => {
        const current = await currentForWrite(tx, policyId, expectedVersion, check);
        // Tenant and learner identify the policy and never change; the service layer rejects attempts.
        const columns = { ...policyFieldsToColumns(fields), tenantId: current.tenantId, learnerId: current.learnerId };
        const changes = { ...columns, version: expectedVersion + 1, updatedAt: meta.now, updatedBy: meta.actor };
        // The version condition makes the update safe even without the serialising counter bump.
        const updated = await tx.nativeUpdate(PolicyRecordSchema, { policyId, version: expectedVersion }, changes);
        if (updated !== 1) throw versionConflict(policyId, expectedVersion, current.version);
        const stored = policyRecordToStored({ ...current, ...changes });
        await tx.insert(PolicyVersionRecordSchema, liveVersionRow(stored));
        const before = policyRecordToStored(current);
        return { value: stored, ids: [policyId], events: [policyEvent("POLICY_UPDATED", before, stored, meta)] };
      });
    },

    async deletePolicy(policyId, expectedVersion, meta, check): Promise<Committed<StoredPolicy>> {
      return write("policy", meta, async (tx) => {
        const current = await currentForWrite(tx, policyId, expectedVersion, check);
        const deleted = await tx.nativeDelete(PolicyRecordSchema, { policyId, version: expectedVersion });
        if (deleted !== 1) throw versionConflict(policyId, expectedVersion, current.version);
        const last = policyRecordToStored(current);
        const tombstone = { version: last.version + 1, deleted: true, writtenAt: meta.now, writtenBy: meta.actor };
        await tx.insert(PolicyVersionRecordSchema, policyVersionFromStored(last, tombstone));
        // The policy as it stood when deleted (its last live version); the tombstone is history only.
        return { value: last, ids: [policyId], events: [policyEvent("POLICY_DELETED", last, undefined, meta)] };
      });
    },

    async setRegionStatus(regionId, status: RegionStatus, reason, meta): Promise<Committed<RegionStatusRecord>> {
      return write("region", meta, async (tx) => {
        const row: RegionStatusRow = { regionId, status, reason, updatedAt: meta.now, updatedBy: meta.actor };
        // Writers are serialised by the counter bump, so this check-then-write cannot race another writer.
        const previous = await tx.findOne(RegionStatusRowSchema, { regionId });
        const before = previous ? regionStatusRowToRecord(previous) : undefined;
        const updated = await tx.nativeUpdate(RegionStatusRowSchema, { regionId }, row);
        if (updated === 0) await tx.insert(RegionStatusRowSchema, row);
        const value = regionStatusRowToRecord(row);
        return { value, ids: [regionId], events: [regionStatusEvent(regionId, before, value, meta)] };
      });
    },

    async createOverride(override, meta) {
      return write("override", meta, (tx) => insertOverride(tx, override, meta));
    },

    async getOverride(overrideId) {
      return read((em) => findOverride(em, overrideId));
    },

    async listOverrides(query) {
      return read((em) => listOverrideRows(em, query));
    },

    async transitionOverride(overrideId, expected, change, meta, note) {
      return write("override", meta, (tx) => transitionOverrideRow(tx, overrideId, expected, change, meta, note));
    },

    async addOverrideUsage(usage) {
      if (!usage.some((u) => u.count > 0)) return 0;
      // No counter bump and no change row: see PolicyStore.addOverrideUsage.
      return retrying(() => fork().transactional((tx) => addUsageRows(tx, usage)));
    },

    async loadChangesSince(since: number): Promise<ChangesSince | undefined> {
      return snapshotRead((tx) => readChangesSince(tx, since));
    },

    async unpublishedChanges(limit: number): Promise<ChangeRecord[]> {
      return read((em) => readUnpublished(em, limit));
    },

    async markPublished(versions: readonly number[]): Promise<void> {
      if (versions.length === 0) return;
      const now = Date.now();
      await retrying(() => fork().transactional((tx) => markRowsPublished(tx, versions, now)));
    },
  };
}
