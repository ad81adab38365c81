import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  MikroORM,
  UniqueConstraintViolationException,
  raw,
  type EntityManager,
  type FilterQuery,
} from "@mikro-orm/better-sqlite";
import type { PolicyFields, StoredPolicy } from "../../domain/policy.js";
import { AlreadyExistsError, NotFoundError, UnavailableError, VersionConflictError } from "../../domain/errors.js";
import type { Committed, ListPoliciesQuery, PolicyStore, SnapshotData, WriteMeta } from "../policy-store.js";
import { policyStoreEntities } from "../entities/policy-store-entities.js";
import { PolicyRecordSchema, type PolicyRecord } from "../entities/policy-record.js";
import { PolicyVersionRecordSchema } from "../entities/policy-version-record.js";
import { STORE_STATE_ID, StoreStateSchema } from "../entities/store-state.js";
import {
  policyFieldsToColumns,
  policyRecordToStored,
  policyVersionFromStored,
  policyVersionToStored,
} from "../policy-record-mapping.js";
import { isSqliteBusy, messageOf, toSqliteStoreError } from "./sqlite-store-error.js";

export interface SqlitePolicyStoreOptions {
  /** Directory of the database file; created by `open()` when missing. */
  readonly dataDir: string;
  /** @default "residency.sqlite" */
  readonly fileName?: string;
  /** Log every SQL statement through MikroORM's logger. @default false */
  readonly debug?: boolean;
}

/**
 * SQLite's busy handler sleeps synchronously, blocking the event loop (and, for two connections in one process,
 * the lock holder itself). So the driver waits only briefly and `write()` retries asynchronously instead.
 */
const BUSY_TIMEOUT_MS = 50;
/** How long a write keeps retrying while another connection (another process) holds the write lock. */
const WRITE_LOCK_WAIT_MS = 5_000;

/** The embedded PolicyStore: one SQLite file, schema kept up to date by MikroORM's schema generator. */
export function createSqlitePolicyStore(options: SqlitePolicyStoreOptions): PolicyStore {
  const path = join(options.dataDir, options.fileName ?? "residency.sqlite");
  let orm: MikroORM | undefined;

  function fork(): EntityManager {
    if (!orm) throw new UnavailableError(`policy store ${path} is not open`);
    return orm.em.fork();
  }

  /**
   * Runs `work` in one transaction that first advances the change counter; a throw rolls both back. Retrying
   * on SQLITE_BUSY is safe: a busy attempt is rolled back, and as the write lock is taken by the first
   * statement, the retry reads fresh data.
   */
  async function write<T>(work: (tx: EntityManager) => Promise<T>): Promise<Committed<T>> {
    const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fork().transactional(async (tx) => {
          const changeVersion = await advanceChangeVersion(tx);
          return { value: await work(tx), changeVersion };
        });
      } catch (err) {
        if (!isSqliteBusy(err) || Date.now() >= deadline) throw toSqliteStoreError(err, path);
        await sleep(Math.random() * Math.min(200, 10 * 2 ** attempt)); // jitter, so waiting writers spread out
      }
    }
  }

  async function read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await work(fork());
    } catch (err) {
      throw toSqliteStoreError(err, path);
    }
  }

  /** Loads the current row and checks the caller's expected version. */
  async function currentForWrite(tx: EntityManager, policyId: string, expectedVersion: number): Promise<PolicyRecord> {
    const record = await tx.findOne(PolicyRecordSchema, { policyId });
    if (!record) throw new NotFoundError(`policy ${policyId} not found`);
    if (record.version !== expectedVersion) throw versionConflict(policyId, expectedVersion, record.version);
    return record;
  }

  return {
    async open() {
      if (orm) return;
      try {
        await mkdir(options.dataDir, { recursive: true });
      } catch (err) {
        const message = `cannot create data directory ${options.dataDir}: ${messageOf(err)}`;
        throw new UnavailableError(message, { cause: err });
      }
      let opened: MikroORM | undefined;
      try {
        opened = await MikroORM.init({
          dbName: path,
          entities: policyStoreEntities,
          debug: options.debug ?? false,
          // Looked up per call (MikroORM's default binds console.log at import), so redirections and spies see it.
          logger: (message) => console.log(message),
          // No metadata cache files (a temp/ folder in the working directory) and no folder-based discovery.
          metadataCache: { enabled: false },
          discovery: { disableDynamicFileAccess: true },
          pool: { min: 1, max: 1, afterCreate: configureConnection },
        });
        // Never drop columns, nor tables this ORM does not know (other modules may share the file).
        await opened.schema.updateSchema({ safe: true, dropTables: false });
        await seedStoreState(opened.em.fork());
      } catch (err) {
        await opened?.close(true).catch(() => undefined);
        throw new UnavailableError(`cannot open policy store ${path}: ${messageOf(err)}`, { cause: err });
      }
      orm = opened;
    },

    async close() {
      const closing = orm;
      orm = undefined;
      await closing?.close(true);
    },

    async loadSnapshotData(): Promise<SnapshotData> {
      // One transaction, so the policies and the counter come from the same snapshot (SQLite transactions are
      // serializable; Postgres needs isolationLevel REPEATABLE READ here).
      return read((em) =>
        em.transactional(async (tx) => {
          const records = await tx.find(PolicyRecordSchema, {}, { orderBy: { tenantId: "asc", learnerId: "asc" } });
          const state = await tx.findOneOrFail(StoreStateSchema, { id: STORE_STATE_ID });
          return { policies: records.map(policyRecordToStored), changeVersion: state.changeVersion };
        }),
      );
    },

    async createPolicy(fields: PolicyFields, meta: WriteMeta): Promise<Committed<StoredPolicy>> {
      try {
        return await write(async (tx) => {
          const { tenantId, learnerId } = fields;
          const existing = await tx.findOne(PolicyRecordSchema, { tenantId, learnerId });
          if (existing) throw alreadyExists(existing);
          const record: PolicyRecord = {
            ...policyFieldsToColumns(fields),
            policyId: `pol_${randomUUID().replaceAll("-", "")}`,
            version: 1,
            createdAt: meta.now,
            createdBy: meta.actor,
            updatedAt: meta.now,
            updatedBy: meta.actor,
          };
          await tx.insert(PolicyRecordSchema, record);
          const stored = policyRecordToStored(record);
          await tx.insert(PolicyVersionRecordSchema, historyRow(stored, false));
          return stored;
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
      const conditions: FilterQuery<PolicyRecord>[] = [];
      if (query.tenantId !== "") conditions.push({ tenantId: query.tenantId });
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

    async updatePolicy(policyId, fields, expectedVersion, meta): Promise<Committed<StoredPolicy>> {
      return write(async (tx) => {
        const current = await currentForWrite(tx, policyId, expectedVersion);
        // Tenant and learner identify the policy and never change; the service layer rejects attempts.
        const columns = { ...policyFieldsToColumns(fields), tenantId: current.tenantId, learnerId: current.learnerId };
        const changes = { ...columns, version: expectedVersion + 1, updatedAt: meta.now, updatedBy: meta.actor };
        // The version condition makes the update safe even without the serialising counter bump.
        const updated = await tx.nativeUpdate(PolicyRecordSchema, { policyId, version: expectedVersion }, changes);
        if (updated !== 1) throw versionConflict(policyId, expectedVersion, current.version);
        const stored = policyRecordToStored({ ...current, ...changes });
        await tx.insert(PolicyVersionRecordSchema, historyRow(stored, false));
        return stored;
      });
    },

    async deletePolicy(policyId, expectedVersion, meta): Promise<Committed<StoredPolicy>> {
      return write(async (tx) => {
        const current = await currentForWrite(tx, policyId, expectedVersion);
        const deleted = await tx.nativeDelete(PolicyRecordSchema, { policyId, version: expectedVersion });
        if (deleted !== 1) throw versionConflict(policyId, expectedVersion, current.version);
        const last = policyRecordToStored(current);
        const tombstone = { version: last.version + 1, deleted: true, writtenAt: meta.now, writtenBy: meta.actor };
        await tx.insert(PolicyVersionRecordSchema, policyVersionFromStored(last, tombstone));
        // The policy as it stood when deleted (its last live version); the tombstone is history only.
        return last;
      });
    },
  };
}

function historyRow(p: StoredPolicy, deleted: boolean) {
  return policyVersionFromStored(p, { version: p.version, deleted, writtenAt: p.updatedAt, writtenBy: p.updatedBy });
}

/** Advances the counter with one UPDATE (so it is atomic and takes the write lock first) and reads it back. */
async function advanceChangeVersion(tx: EntityManager): Promise<number> {
  const increment = { changeVersion: raw("change_version + 1") };
  const updated = await tx.nativeUpdate(StoreStateSchema, { id: STORE_STATE_ID }, increment);
  if (updated !== 1) throw new Error("store_state row is missing; open() seeds it");
  const state = await tx.findOneOrFail(StoreStateSchema, { id: STORE_STATE_ID });
  return state.changeVersion;
}

async function seedStoreState(em: EntityManager): Promise<void> {
  if (await em.findOne(StoreStateSchema, { id: STORE_STATE_ID })) return;
  try {
    await em.insert(StoreStateSchema, { id: STORE_STATE_ID, changeVersion: 0 });
  } catch (err) {
    // Another process opening the same file seeded it first.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
}

/** Per connection: WAL lets readers run beside the writer; the short busy timeout absorbs brief lock holds. */
function configureConnection(conn: { pragma(source: string): unknown }, done: (err: unknown, conn: unknown) => void) {
  try {
    conn.pragma("journal_mode = WAL");
    conn.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    done(null, conn);
  } catch (err) {
    done(err, conn);
  }
}

function alreadyExists(existing: PolicyRecord): AlreadyExistsError {
  return new AlreadyExistsError(
    existing.learnerId === ""
      ? `tenant ${existing.tenantId} already has a tenant policy ${existing.policyId}`
      : `learner ${existing.learnerId} of tenant ${existing.tenantId} already has a policy ${existing.policyId}`,
  );
}

function versionConflict(policyId: string, expected: number, current: number): VersionConflictError {
  return new VersionConflictError(
    `policy ${policyId} is at version ${current}, not the expected version ${expected}`,
    current,
  );
}
