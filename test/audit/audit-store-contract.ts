import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { overrideEvent } from "../../src/audit/admin-events.js";
import { verifyAuditChain } from "../../src/audit/audit-chain-verifier.js";
import { adminContent } from "../../src/audit/audit-content.js";
import { chainEntries, GENESIS_HASH } from "../../src/audit/audit-hash.js";
import type { AuditStore } from "../../src/store/audit-store.js";
import type { PolicyStore } from "../../src/store/policy-store.js";
import { fields, meta } from "../store/contract-fixtures.js";
import { decisionContent, deniedContent, T0 } from "./audit-fixtures.js";

export type AuditTestStore = PolicyStore & AuditStore;

export interface AuditStoreFixture {
  /** An open store on an empty database. */
  readonly store: AuditTestStore;
  /** Another store on the same database (another replica, or process). */
  readonly reopen: () => Promise<AuditTestStore>;
  /** Runs one statement as the database's superuser; triggers still fire. */
  readonly sql: (statement: string) => Promise<void>;
  /** Turns the append-only triggers off as a superuser would: ALTER TABLE … DISABLE TRIGGER, or DROP TRIGGER. */
  readonly disableTriggers: () => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

/** The audit store's behaviour, run against every driver (SQLite and Postgres). */
export function auditStoreContract(name: string, makeFixture: () => Promise<AuditStoreFixture>): void {
  describe(`${name} audit store`, () => {
    let f: AuditStoreFixture;
    let store: AuditTestStore;
    beforeEach(async () => {
      f = await makeFixture();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    const all = () => store.readAuditEntries(1, Number.MAX_SAFE_INTEGER, 10_000);
    const verify = (from = 0, to = 0) => verifyAuditChain(store, from, to);

    it("starts empty: head 0 with the genesis hash, and verifies", async () => {
      expect(await store.auditChainHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(await verify()).toMatchObject({ valid: true, checked: 0, headSeq: 0, firstBadSeq: 0, problem: "" });
    });

    it("records each admin change in its own transaction, with before and after as canonical JSON", async () => {
      const withRequest = (n: number) => ({ ...meta(n, "alice"), requestId: `req-admin-${n}` });
      const created = await store.createPolicy(fields("acme", "", { allowedRegions: ["us-west"] }), withRequest(1));
      const updated = await store.updatePolicy(created.value.policyId, fields("acme", "", { dataRetentionDays: 30 }), 1, withRequest(2));
      const learner = await store.createPolicy(fields("acme", "kid-1"), withRequest(3));
      // A refused write records nothing.
      await expect(store.updatePolicy(created.value.policyId, fields("acme"), 1, withRequest(4))).rejects.toThrow(/version/);
      await store.deletePolicy(learner.value.policyId, 1, withRequest(5));
      await store.setRegionStatus("us-west", "DOWN", "maintenance", withRequest(6));
      await store.setRegionStatus("us-west", "HEALTHY", "back", meta(7, "bob"));

      const entries = await all();
      expect(entries.map((e) => [e.seq, e.kind, e.tenantId, e.learnerId, e.actor, e.requestId, e.occurredAt])).toEqual([
        [1, "POLICY_CREATED", "acme", "", "alice", "req-admin-1", T0 + 1],
        [2, "POLICY_UPDATED", "acme", "", "alice", "req-admin-2", T0 + 2],
        [3, "POLICY_CREATED", "acme", "kid-1", "alice", "req-admin-3", T0 + 3],
        [4, "POLICY_DELETED", "acme", "kid-1", "alice", "req-admin-5", T0 + 5],
        [5, "REGION_STATUS_CHANGED", "", "", "alice", "req-admin-6", T0 + 6],
        [6, "REGION_STATUS_CHANGED", "", "", "bob", "", T0 + 7],
      ]);
      const [c, u, lc, ld, r1, r2] = entries as [typeof entries[0], ...typeof entries];
      expect(c.subjectId).toBe(created.value.policyId);
      expect(c.beforeJson).toBe("");
      expect(JSON.parse(c.afterJson)).toMatchObject({ policyId: created.value.policyId, version: 1, allowedRegions: ["us-west"] });
      expect(c.afterJson).toMatch(/^\{"allowCrossRegionFailover"|^\{"allowedRegions"/); // keys sorted
      expect(JSON.parse(u!.beforeJson)).toMatchObject({ version: 1, allowedRegions: ["us-west"] });
      expect(JSON.parse(u!.afterJson)).toMatchObject({ version: 2, allowedRegions: [], dataRetentionDays: 30 });
      expect(u!.beforeJson).toBe(c.afterJson);
      expect(lc!.subjectId).toBe(learner.value.policyId);
      expect(JSON.parse(ld!.beforeJson)).toMatchObject({ policyId: learner.value.policyId, learnerId: "kid-1" });
      expect(ld!.afterJson).toBe("");
      expect(r1!.subjectId).toBe("us-west");
      expect(r1!.beforeJson).toBe("");
      expect(JSON.parse(r1!.afterJson)).toEqual({ reason: "maintenance", regionId: "us-west", status: "DOWN", updatedAt: T0 + 6, updatedBy: "alice" });
      expect(r2!.beforeJson).toBe(r1!.afterJson);
      expect(JSON.parse(r2!.afterJson)).toMatchObject({ status: "HEALTHY", updatedBy: "bob" });
      for (const e of entries) expect(e).toMatchObject({ allowed: null, decisionId: "", violations: [] });
      expect(await verify()).toMatchObject({ valid: true, checked: 6, headSeq: 6, headHash: entries[5]!.hash });
    });

    it("records emergency override events (the override issue's API) like any admin event", async () => {
      const override = { overrideId: "ovr-1", tenantId: "acme", status: "PENDING" };
      const approved = { ...override, status: "ACTIVE", approvedBy: "bob" };
      const events = [
        overrideEvent("OVERRIDE_REQUESTED", override, undefined, override, { actor: "alice", now: T0 + 1, requestId: "r1" }),
        overrideEvent("OVERRIDE_APPROVED", override, override, approved, { actor: "bob", now: T0 + 2, requestId: "r2" }),
        overrideEvent("OVERRIDE_EXPIRED", override, approved, { ...approved, status: "EXPIRED" }, { actor: "system", now: T0 + 3 }),
      ];
      await store.appendAudit(events.map(adminContent));
      const entries = await all();
      expect(entries.map((e) => [e.kind, e.tenantId, e.subjectId, e.actor, e.requestId])).toEqual([
        ["OVERRIDE_REQUESTED", "acme", "ovr-1", "alice", "r1"],
        ["OVERRIDE_APPROVED", "acme", "ovr-1", "bob", "r2"],
        ["OVERRIDE_EXPIRED", "acme", "ovr-1", "system", ""],
      ]);
      expect(JSON.parse(entries[1]!.beforeJson)).toEqual(override);
      expect(JSON.parse(entries[1]!.afterJson)).toEqual(approved);
      expect(await verify()).toMatchObject({ valid: true, checked: 3 });
    });

    it("appends decisions with every field, and indexes their violations", async () => {
      const appended = await store.appendAudit([decisionContent(1), deniedContent(2, { learnerId: "kid-1" })]);
      expect(appended.map((e) => e.seq)).toEqual([1, 2]);
      expect(appended[0]!.prevHash).toBe(GENESIS_HASH);
      expect(appended[1]!.prevHash).toBe(appended[0]!.hash);
      const entries = await all();
      expect(entries).toEqual(appended);
      expect(entries[1]).toMatchObject({
        kind: "DECISION",
        occurredAt: T0 + 2,
        tenantId: "acme",
        learnerId: "kid-1",
        actor: "svc-1",
        requestId: "req-2",
        decisionId: "dec-2",
        operation: "READ",
        resourceType: "document",
        resourceId: "doc-2",
        requestedRegion: "apac-south",
        targetRegion: "apac-south",
        callerRegion: "us-east",
        primaryRegion: "us-east",
        allowed: false,
        reasonCodes: ["REGION_NOT_ALLOWED", "GDPR_TRANSFER_NO_BASIS"],
        policyId: "pol_1",
        policyVersion: 1,
        snapshotVersion: 7,
        overrideId: "",
        hashVersion: 1,
      });
      const violations = await store.readAuditViolations(1, 2);
      expect(violations).toEqual([
        expect.objectContaining({ seq: 2, idx: 0, framework: "", reasonCode: "REGION_NOT_ALLOWED", learnerId: "kid-1", decisionId: "dec-2" }),
        expect.objectContaining({ seq: 2, idx: 1, framework: "GDPR", reasonCode: "GDPR_TRANSFER_NO_BASIS", targetRegion: "apac-south", primaryRegion: "us-east", actor: "svc-1", requestId: "req-2" }),
      ]);
      expect(await verify()).toMatchObject({ valid: true, checked: 2 });
    });

    it("lists access logs newest first, with filters and stable keyset pages", async () => {
      // Same time for several entries: seq breaks the tie.
      await store.appendAudit([
        decisionContent(1),
        deniedContent(2),
        decisionContent(3, { learnerId: "kid-1" }),
        decisionContent(3, { requestId: "req-3b" }),
        decisionContent(4, { tenantId: "other" }),
      ]);
      await store.setRegionStatus("us-west", "DOWN", "x", meta(5)); // not a decision
      const q = { tenantId: "acme", learnerId: "", start: undefined, end: undefined, allowed: undefined, limit: 10, before: undefined };
      const ids = (rows: { requestId: string }[]) => rows.map((r) => r.requestId);
      expect(ids(await store.listAccessLogs(q))).toEqual(["req-3b", "req-3", "req-2", "req-1"]);
      expect(ids(await store.listAccessLogs({ ...q, learnerId: "kid-1" }))).toEqual(["req-3"]);
      expect(ids(await store.listAccessLogs({ ...q, allowed: false }))).toEqual(["req-2"]);
      expect(ids(await store.listAccessLogs({ ...q, start: T0 + 2, end: T0 + 3 }))).toEqual(["req-2"]);
      const first = await store.listAccessLogs({ ...q, limit: 2 });
      expect(ids(first)).toEqual(["req-3b", "req-3"]);
      // An entry appended meanwhile does not shift the next page.
      await store.appendAudit([decisionContent(9)]);
      const last = first[1]!;
      const second = await store.listAccessLogs({ ...q, limit: 2, before: { occurredAt: last.occurredAt, seq: last.seq } });
      expect(ids(second)).toEqual(["req-2", "req-1"]);
    });

    it("lists violations newest first, by tenant set and framework", async () => {
      await store.appendAudit([deniedContent(1), deniedContent(2, { tenantId: "other" }), decisionContent(3), deniedContent(4)]);
      const q = { tenantIds: undefined, framework: undefined, start: undefined, end: undefined, limit: 10, before: undefined };
      const keys = (rows: { seq: number; idx: number }[]) => rows.map((r) => `${r.seq}.${r.idx}`);
      expect(keys(await store.listViolations(q))).toEqual(["4.1", "4.0", "2.1", "2.0", "1.1", "1.0"]);
      expect(keys(await store.listViolations({ ...q, tenantIds: ["acme"] }))).toEqual(["4.1", "4.0", "1.1", "1.0"]);
      expect(keys(await store.listViolations({ ...q, tenantIds: [] }))).toEqual([]);
      expect(keys(await store.listViolations({ ...q, framework: "GDPR" }))).toEqual(["4.1", "2.1", "1.1"]);
      expect(keys(await store.listViolations({ ...q, framework: "FERPA" }))).toEqual([]);
      const page = await store.listViolations({ ...q, limit: 3 });
      const last = page[2]!;
      expect(keys(await store.listViolations({ ...q, before: { occurredAt: last.occurredAt, seq: last.seq, idx: last.idx } }))).toEqual([
        "2.0",
        "1.1",
        "1.0",
      ]);
    });

    it("verifies a range, and reports a range past the head as the head", async () => {
      await store.appendAudit(Array.from({ length: 10 }, (_, i) => decisionContent(i)));
      expect(await verify(3, 7)).toMatchObject({ valid: true, checked: 5, headSeq: 10 });
      expect(await verify(8, 0)).toMatchObject({ valid: true, checked: 3 });
      expect(await verify(0, 50)).toMatchObject({ valid: true, checked: 10 });
    });

    it("refuses UPDATE and DELETE on the audit tables, and moving the chain head back", async () => {
      await store.appendAudit([deniedContent(1), decisionContent(2)]);
      for (const statement of [
        "update audit_entry set actor = 'mallory' where seq = 1",
        "delete from audit_entry where seq = 2",
        "delete from audit_entry",
        "update audit_violation set framework = 'CCPA'",
        "delete from audit_violation",
        "update audit_chain_head set seq = 1",
        "update audit_chain_head set hash = 'x'",
        "delete from audit_chain_head",
      ]) {
        await expect(f.sql(statement), statement).rejects.toThrow(/append-only|only moves forward|cannot be deleted|refused/);
      }
      expect(await verify()).toMatchObject({ valid: true, checked: 2 });
    });

    describe("with the triggers disabled, as a superuser could", () => {
      beforeEach(async () => {
        await store.appendAudit(Array.from({ length: 6 }, (_, i) => (i === 3 ? deniedContent(i) : decisionContent(i))));
        expect(await verify()).toMatchObject({ valid: true, checked: 6 });
        await f.disableTriggers();
      });

      it("detects a changed row", async () => {
        await f.sql("update audit_entry set allowed = false where seq = 3");
        expect(await verify()).toMatchObject({ valid: false, checked: 2, firstBadSeq: 3, problem: expect.stringMatching(/^changed content/) });
        // A range that ends before it is still intact.
        expect(await verify(1, 2)).toMatchObject({ valid: true });
      });

      it("detects a changed row whose hash was recomputed: the next entry's link breaks", async () => {
        const [third] = await store.readAuditEntries(3, 3, 1);
        const [forged] = chainEntries({ seq: 2, hash: third!.prevHash }, [{ ...third!, actor: "mallory" }]);
        await f.sql(`update audit_entry set actor = 'mallory', hash = '${forged!.hash}' where seq = 3`);
        expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 4, problem: expect.stringMatching(/^broken link/) });
      });

      it("detects a removed row, and removed newest rows", async () => {
        await f.sql("delete from audit_entry where seq = 3");
        expect(await verify()).toMatchObject({ valid: false, checked: 2, firstBadSeq: 3, problem: expect.stringMatching(/^missing entry/) });
      });

      it("detects removed newest rows against the chain head", async () => {
        await f.sql("delete from audit_entry where seq >= 5");
        expect(await verify()).toMatchObject({ valid: false, checked: 4, firstBadSeq: 5, problem: expect.stringMatching(/^missing entry/) });
      });

      it("detects a reordered row", async () => {
        await f.sql("update audit_entry set seq = -seq where seq in (2, 3)");
        await f.sql("update audit_entry set seq = 3 where seq = -2");
        await f.sql("update audit_entry set seq = 2 where seq = -3");
        expect(await verify()).toMatchObject({ valid: false, checked: 1, firstBadSeq: 2 });
      });

      it("detects a changed or removed violation row", async () => {
        await f.sql("update audit_violation set framework = 'CCPA' where seq = 4 and idx = 1");
        expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 4, problem: expect.stringMatching(/^changed content: the violation rows/) });
        await f.sql("update audit_violation set framework = 'GDPR' where seq = 4 and idx = 1");
        expect(await verify()).toMatchObject({ valid: true });
        await f.sql("delete from audit_violation where seq = 4 and idx = 0");
        expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 4 });
      });
    });

    it("replays a spool chunk once, however often it is retried", async () => {
      const chunk = [decisionContent(1), decisionContent(2), decisionContent(3)];
      expect(await store.appendAudit(chunk, { segment: "seg-a", fromLine: 0 })).toHaveLength(3);
      // The acknowledgement was lost: the same chunk again appends nothing.
      expect(await store.appendAudit(chunk, { segment: "seg-a", fromLine: 0 })).toHaveLength(0);
      // A longer retry from the same place appends only the new tail.
      const longer = [...chunk, decisionContent(4)];
      expect((await store.appendAudit(longer, { segment: "seg-a", fromLine: 0 })).map((e) => e.requestId)).toEqual(["req-4"]);
      expect((await store.appendAudit([decisionContent(5)], { segment: "seg-b", fromLine: 0 })).map((e) => e.seq)).toEqual([5]);
      expect((await all()).map((e) => e.requestId)).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5"]);
    });

    it("keeps one chain when several stores append and write policies at once", async () => {
      const stores = [store, await f.reopen(), await f.reopen()];
      const work = stores.flatMap((s, r) => [
        ...Array.from({ length: 8 }, (_, b) =>
          s.appendAudit(Array.from({ length: 25 }, (_, i) => decisionContent(r * 10_000 + b * 100 + i, { requestId: `r${r}-b${b}-i${i}` }))),
        ),
        s.createPolicy(fields(`tenant-${r}`), meta(r)),
        s.setRegionStatus(`region-${r}`, "DOWN", "", meta(r)),
      ]);
      await Promise.all(work);
      const entries = await all();
      expect(entries).toHaveLength(3 * (8 * 25 + 2));
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      // Each batch stays contiguous and in order.
      for (let r = 0; r < 3; r++) {
        for (let b = 0; b < 8; b++) {
          const seqs = entries.filter((e) => e.requestId.startsWith(`r${r}-b${b}-`)).map((e) => e.seq);
          expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
        }
      }
      expect(await verify()).toMatchObject({ valid: true, checked: entries.length });
    });
  });
}
