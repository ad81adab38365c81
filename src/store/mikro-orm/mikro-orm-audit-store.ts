import type { EntityManager, FilterQuery } from "@mikro-orm/core";
import type { AuditEntry, StoredViolation } from "../../audit/audit-entry.js";
import { spoolRemainder, type AccessLogQuery, type AuditStore, type ViolationQuery } from "../audit-store.js";
import { AUDIT_CHAIN_HEAD_ID, AuditChainHeadSchema } from "../entities/audit-chain-head.js";
import { AuditEntryRowSchema, type AuditEntryRow } from "../entities/audit-entry-row.js";
import { AuditSpoolProgressSchema } from "../entities/audit-spool-progress.js";
import { AuditViolationRowSchema, type AuditViolationRow } from "../entities/audit-violation-row.js";
import { appendToChain, lockChainHead, rowToEntry, type SqlDialect } from "./audit-chain.js";

/** What the audit store borrows from the MikroORM store it shares a database with. */
export interface MikroOrmStoreAccess {
  /** A fresh EntityManager; UnavailableError when the store is not open. */
  fork(): EntityManager;
  /** Runs a read; database trouble becomes UnavailableError. */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
  /** Runs a transaction again while it fails transiently; database trouble becomes UnavailableError. */
  retrying<T>(run: () => Promise<T>): Promise<T>;
  readonly dialect: SqlDialect;
}

export function createMikroOrmAuditStore(access: MikroOrmStoreAccess): AuditStore {
  const { read, dialect } = access;
  return {
    async appendAudit(contents, spool) {
      if (contents.length === 0 && spool === undefined) return [];
      return access.retrying(() =>
        access.fork().transactional(async (tx) => {
          let todo = contents;
          if (spool !== undefined) {
            // Read under the chain head's lock, which serialises every append (locking it again below is a no-op).
            await lockChainHead(tx, dialect);
            const done = (await tx.findOne(AuditSpoolProgressSchema, { segment: spool.segment }))?.lines ?? 0;
            const { todo: rest, lines } = spoolRemainder(contents, spool, done);
            todo = rest;
            const updated = await tx.nativeUpdate(AuditSpoolProgressSchema, { segment: spool.segment }, { lines });
            if (updated === 0) await tx.insert(AuditSpoolProgressSchema, { segment: spool.segment, lines });
          }
          const entries = await appendToChain(tx, dialect, todo);
          tx.clear();
          return entries;
        }),
      );
    },

    async auditChainHead() {
      const head = await read((em) => em.findOneOrFail(AuditChainHeadSchema, { id: AUDIT_CHAIN_HEAD_ID }));
      return { seq: Number(head.seq), hash: head.hash };
    },

    async readAuditEntries(fromSeq, toSeq, limit) {
      if (limit <= 0 || toSeq < fromSeq) return [];
      const rows = await read((em) =>
        em.find(AuditEntryRowSchema, { seq: { $gte: fromSeq, $lte: toSeq } }, { orderBy: { seq: "asc" }, limit }),
      );
      return rows.map(rowToEntry);
    },

    async readAuditViolations(fromSeq, toSeq) {
      if (toSeq < fromSeq) return [];
      const rows = await read((em) =>
        em.find(AuditViolationRowSchema, { seq: { $gte: fromSeq, $lte: toSeq } }, { orderBy: { seq: "asc", idx: "asc" } }),
      );
      return rows.map(rowToViolation);
    },

    async listAccessLogs(query: AccessLogQuery): Promise<AuditEntry[]> {
      if (query.limit <= 0) return [];
      const where: FilterQuery<AuditEntryRow>[] = [{ kind: "DECISION", tenantId: query.tenantId }];
      if (query.learnerId !== "") where.push({ learnerId: query.learnerId });
      if (query.allowed !== undefined) where.push({ allowed: query.allowed });
      if (query.start !== undefined) where.push({ occurredAt: { $gte: query.start } });
      if (query.end !== undefined) where.push({ occurredAt: { $lt: query.end } });
      if (query.before) {
        const { occurredAt, seq } = query.before;
        where.push({ $or: [{ occurredAt: { $lt: occurredAt } }, { occurredAt, seq: { $lt: seq } }] });
      }
      const rows = await read((em) =>
        em.find(AuditEntryRowSchema, { $and: where }, { orderBy: { occurredAt: "desc", seq: "desc" }, limit: query.limit }),
      );
      return rows.map(rowToEntry);
    },

    async listViolations(query: ViolationQuery): Promise<StoredViolation[]> {
      if (query.limit <= 0 || query.tenantIds?.length === 0) return [];
      const where: FilterQuery<AuditViolationRow>[] = [];
      if (query.tenantIds !== undefined) where.push({ tenantId: { $in: [...query.tenantIds] } });
      if (query.framework !== undefined) where.push({ framework: query.framework });
      if (query.start !== undefined) where.push({ occurredAt: { $gte: query.start } });
      if (query.end !== undefined) where.push({ occurredAt: { $lt: query.end } });
      if (query.before) {
        const { occurredAt, seq, idx } = query.before;
        where.push({
          $or: [{ occurredAt: { $lt: occurredAt } }, { occurredAt, seq: { $lt: seq } }, { occurredAt, seq, idx: { $lt: idx } }],
        });
      }
      const rows = await read((em) =>
        em.find(AuditViolationRowSchema, where.length > 0 ? { $and: where } : {}, {
          orderBy: { occurredAt: "desc", seq: "desc", idx: "desc" },
          limit: query.limit,
        }),
      );
      return rows.map(rowToViolation);
    },
  };
}

function rowToViolation(r: AuditViolationRow): StoredViolation {
  return {
    seq: Number(r.seq),
    idx: r.idx,
    framework: r.framework,
    reasonCode: r.reasonCode,
    occurredAt: Number(r.occurredAt),
    decisionId: r.decisionId,
    tenantId: r.tenantId,
    learnerId: r.learnerId,
    requestedRegion: r.requestedRegion,
    targetRegion: r.targetRegion,
    primaryRegion: r.primaryRegion,
    actor: r.actor,
    requestId: r.requestId,
  };
}
