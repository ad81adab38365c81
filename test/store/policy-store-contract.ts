import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../src/audit/audit-chain-verifier.js";
import { AlreadyExistsError, NotFoundError, VersionConflictError } from "../../src/domain/errors.js";
import type { AuditStore } from "../../src/store/audit-store.js";
import type { PolicyStore, PolicyWriteCheck, PolicyWriteState } from "../../src/store/policy-store.js";
import { changeLogContract } from "./change-log-contract.js";
import { listingContract } from "./listing-contract.js";
import { overrideContract } from "./override-contract.js";
import { FULL, T0, fields, meta, type PolicyStoreFixture } from "./contract-fixtures.js";

/** The shared suite every PolicyStore implementation must pass. */
export function policyStoreContract(name: string, makeStore: () => Promise<PolicyStoreFixture>): void {
  describe(`PolicyStore contract: ${name}`, () => {
    let fixture: PolicyStoreFixture;
    let store: PolicyStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => fixture.cleanup());

    const changeVersion = async () => (await store.loadSnapshotData()).changeVersion;

    describe("create and get", () => {
      it("stores version 1 with a server id, provenance and every field", async () => {
        const { value } = await store.createPolicy(fields("acme", "", FULL), meta(1));
        expect(value).toEqual({
          ...fields("acme", "", FULL),
          policyId: expect.stringMatching(/^pol_\w+$/),
          version: 1,
          createdAt: T0 + 1,
          updatedAt: T0 + 1,
          createdBy: "admin-1",
          updatedBy: "admin-1",
        });
        expect(await store.getPolicy(value.policyId)).toEqual(value);
        expect(await store.getPolicy(value.policyId, 1)).toEqual(value);
      });

      it("round-trips unset optionals as undefined and empty lists as empty", async () => {
        const { value } = await store.createPolicy(fields("acme", "student1"), meta(1));
        expect(await store.getPolicy(value.policyId)).toEqual({ ...value, ...fields("acme", "student1") });
      });

      it("answers undefined for an unknown policy or version", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        expect(await store.getPolicy("pol_unknown")).toBeUndefined();
        expect(await store.getPolicy(value.policyId, 2)).toBeUndefined();
      });

      it("gives every policy its own id", async () => {
        const a = await store.createPolicy(fields("acme"), meta(1));
        const b = await store.createPolicy(fields("acme", "student1"), meta(2));
        expect(a.value.policyId).not.toBe(b.value.policyId);
      });
    });

    describe("already exists", () => {
      it("rejects a second tenant policy, naming the existing one", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        const err = await store.createPolicy(fields("acme", "", FULL), meta(2)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect((err as Error).message).toBe(`tenant acme already has a tenant policy ${value.policyId}`);
      });

      it("rejects a second policy for a learner, naming the existing one", async () => {
        const { value } = await store.createPolicy(fields("acme", "student1"), meta(1));
        const err = await store.createPolicy(fields("acme", "student1"), meta(2)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect((err as Error).message).toBe(`learner student1 of tenant acme already has a policy ${value.policyId}`);
      });

      it("scopes learners to their tenant", async () => {
        await store.createPolicy(fields("acme", "student1"), meta(1));
        await expect(store.createPolicy(fields("globex", "student1"), meta(2))).resolves.toBeDefined();
      });

      it("lets exactly one of two concurrent creates win", async () => {
        const results = await Promise.allSettled([
          store.createPolicy(fields("acme"), meta(1)),
          store.createPolicy(fields("acme"), meta(2)),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const failed = results.find((r) => r.status === "rejected");
        expect(failed?.reason).toBeInstanceOf(AlreadyExistsError);
        expect((await store.loadSnapshotData()).policies).toHaveLength(1);
      });
    });

    describe("update, delete and history", () => {
      it("replaces the fields, keeps identity and creation, adds one to the version", async () => {
        const { value: v1 } = await store.createPolicy(fields("acme"), meta(1));
        const moved = fields("globex", "student9", FULL); // tenant and learner changes are ignored
        const { value: v2 } = await store.updatePolicy(v1.policyId, moved, 1, meta(2, "admin-2"));
        expect(v2).toEqual({
          ...fields("acme", "", FULL),
          policyId: v1.policyId,
          version: 2,
          createdAt: T0 + 1,
          createdBy: "admin-1",
          updatedAt: T0 + 2,
          updatedBy: "admin-2",
        });
        expect(await store.getPolicy(v1.policyId)).toEqual(v2);
      });

      it("writes a new version even when nothing changed", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        const { value: v2 } = await store.updatePolicy(value.policyId, fields("acme"), 1, meta(1));
        expect(v2.version).toBe(2);
        expect(await store.getPolicy(value.policyId, 2)).toEqual(v2);
      });

      it("keeps every version readable, also after a delete", async () => {
        const { value: v1 } = await store.createPolicy(fields("acme"), meta(1));
        const { value: v2 } = await store.updatePolicy(v1.policyId, fields("acme", "", FULL), 1, meta(2));
        const { value: deleted } = await store.deletePolicy(v1.policyId, 2, meta(3));
        expect(deleted).toEqual(v2);
        expect(await store.getPolicy(v1.policyId)).toBeUndefined();
        expect(await store.getPolicy(v1.policyId, 1)).toEqual(v1);
        expect(await store.getPolicy(v1.policyId, 2)).toEqual(v2);
        expect(await store.getPolicy(v1.policyId, 3)).toBeUndefined(); // the tombstone is not a policy
        expect(await store.listPolicies({ tenantId: "", limit: 10, after: undefined })).toEqual([]);
        expect((await store.loadSnapshotData()).policies).toEqual([]);
      });

      it("frees the tenant and learner slot on delete; a new policy gets a new id", async () => {
        const { value: old } = await store.createPolicy(fields("acme", "student1"), meta(1));
        await store.deletePolicy(old.policyId, 1, meta(2));
        const { value: fresh } = await store.createPolicy(fields("acme", "student1"), meta(3));
        expect(fresh.policyId).not.toBe(old.policyId);
        expect(fresh.version).toBe(1);
      });

      it("answers NOT_FOUND for unknown or deleted policies", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        await store.deletePolicy(value.policyId, 1, meta(2));
        for (const id of ["pol_unknown", value.policyId]) {
          await expect(store.updatePolicy(id, fields("acme"), 1, meta(3))).rejects.toBeInstanceOf(NotFoundError);
          await expect(store.deletePolicy(id, 1, meta(3))).rejects.toBeInstanceOf(NotFoundError);
        }
      });
    });

    describe("version conflicts", () => {
      it("rejects a stale update or delete with the current version", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        await store.updatePolicy(value.policyId, fields("acme", "", FULL), 1, meta(2));
        for (const attempt of [
          () => store.updatePolicy(value.policyId, fields("acme"), 1, meta(3)),
          () => store.deletePolicy(value.policyId, 1, meta(3)),
        ]) {
          const err = await attempt().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(VersionConflictError);
          expect((err as VersionConflictError).currentVersion).toBe(2);
          expect((err as Error).message).toMatch(/\b2\b.*\b1\b|\b1\b.*\b2\b/);
        }
      });

      it.each([
        ["one store", false],
        ["two stores on the same database", true],
      ])("lets exactly one of two concurrent updates win (%s)", async (_label, twoStores) => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        const other = twoStores ? await fixture.reopen() : store;
        const results = await Promise.allSettled([
          store.updatePolicy(value.policyId, fields("acme", "", { emergencyContact: "a" }), 1, meta(2)),
          other.updatePolicy(value.policyId, fields("acme", "", { emergencyContact: "b" }), 1, meta(3)),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(VersionConflictError);
        const current = await store.getPolicy(value.policyId);
        expect(current).toEqual(won[0]?.value.value);
        expect(await store.getPolicy(value.policyId, 3)).toBeUndefined();
      });
    });

    describe("change version", () => {
      it("advances by exactly one per committed write and returns it", async () => {
        const start = await changeVersion();
        const c = await store.createPolicy(fields("acme"), meta(1));
        const u = await store.updatePolicy(c.value.policyId, fields("acme", "", FULL), 1, meta(2));
        const d = await store.deletePolicy(c.value.policyId, 2, meta(3));
        expect([c.changeVersion, u.changeVersion, d.changeVersion]).toEqual([start + 1, start + 2, start + 3]);
        expect(await changeVersion()).toBe(start + 3);
      });

      it.each([
        ["one store", false],
        ["two stores on the same database", true],
      ])("gives concurrent writes distinct consecutive versions (%s)", async (_label, twoStores) => {
        const start = await changeVersion();
        const other = twoStores ? await fixture.reopen() : store;
        const all = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).createPolicy(fields("acme", `s${i}`), meta(i))),
        );
        const versions = all.map((c) => c.changeVersion).sort((a, b) => a - b);
        expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => start + n));
        // Each write's change row carries the version that write returned.
        const changes = (await store.loadChangesSince(start))?.changes ?? [];
        expect(changes.map((c) => c.version)).toEqual(versions);
        for (const c of all) {
          expect(changes.find((x) => x.version === c.changeVersion)?.ids).toEqual([c.value.policyId]);
        }
      });

      it("does not advance, and changes nothing, when a write fails", async () => {
        const { value } = await store.createPolicy(fields("acme", "", FULL), meta(1));
        await store.createPolicy(fields("acme", "student1"), meta(2));
        const before = await store.loadSnapshotData();
        const outbox = await store.unpublishedChanges(100);
        const failures = [
          () => store.createPolicy(fields("acme"), meta(3)),
          () => store.createPolicy(fields("acme", "student1"), meta(3)),
          () => store.updatePolicy(value.policyId, fields("acme"), 7, meta(3)),
          () => store.deletePolicy(value.policyId, 7, meta(3)),
          () => store.updatePolicy("pol_unknown", fields("acme"), 1, meta(3)),
          () => store.deletePolicy("pol_unknown", 1, meta(3)),
        ];
        for (const fail of failures) await expect(fail()).rejects.toBeInstanceOf(Error);
        expect(await store.loadSnapshotData()).toEqual(before);
        // No change row either: the change log (and outbox) is written in the write's own transaction.
        expect(await store.unpublishedChanges(100)).toEqual(outbox);
        expect((await store.loadChangesSince(before.changeVersion))?.changes).toEqual([]);
        expect(await store.getPolicy(value.policyId, 2)).toBeUndefined();
      });
    });

    it("stores quotes, backslashes, newlines and non-ASCII text as given, and chains their audit entries intact", async () => {
      const awkward = `o'brien\\dpo "x" \\' \\\\n\n\t€ 日本 😀 ?? $1 :x`;
      const ids = { tenant: `t'\\1`, learner: `l"\\'` };
      const over = { emergencyContact: awkward, inferenceProviders: [awkward, "\\"], allowedRegions: ["a'b"] };
      const { value: created } = await store.createPolicy(fields(ids.tenant, "", over), meta(1, `admin'\\`));
      const { value: learner } = await store.createPolicy(fields(ids.tenant, ids.learner, over), { ...meta(2), requestId: `r'\\"` });
      const { value: updated } = await store.updatePolicy(created.policyId, fields(ids.tenant, "", { ...over, emergencyContact: `${awkward}2` }), 1, meta(3));
      await store.deletePolicy(learner.policyId, 1, meta(4));
      expect(updated).toMatchObject({ ...over, emergencyContact: `${awkward}2`, tenantId: ids.tenant, createdBy: `admin'\\` });
      expect(await store.getPolicy(created.policyId)).toEqual(updated);
      expect(await store.getPolicy(created.policyId, 1)).toEqual(created);
      expect(await store.getPolicy(learner.policyId, 1)).toEqual(learner);
      const audit = store as PolicyStore & Partial<AuditStore>;
      if (audit.readAuditEntries === undefined) return;
      const entries = await audit.readAuditEntries(1, 100, 100);
      expect(entries.map((e) => e.kind)).toEqual(["POLICY_CREATED", "POLICY_CREATED", "POLICY_UPDATED", "POLICY_DELETED"]);
      expect(entries[1]?.requestId).toBe(`r'\\"`);
      expect(JSON.parse(entries[2]!.afterJson)).toMatchObject({ emergencyContact: `${awkward}2` });
      expect(await verifyAuditChain(audit as PolicyStore & AuditStore, 0, 0)).toMatchObject({ valid: true, checked: 4 });
    });

    describe("write checks", () => {
      const seen = () => {
        const states: PolicyWriteState[] = [];
        const check: PolicyWriteCheck = (state) => void states.push(state);
        return { states, check };
      };

      it("shows a create the policy holding its slot and the tenant's own policy", async () => {
        const { value: tenant } = await store.createPolicy(fields("acme"), meta(1));
        const { value: learner } = await store.createPolicy(fields("acme", "s1"), meta(2));
        const { states, check } = seen();
        await store.createPolicy(fields("acme", "s2"), meta(3), check);
        await store.createPolicy(fields("globex"), meta(4), check);
        await expect(store.createPolicy(fields("acme", "s1"), meta(5), check)).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(states).toEqual([
          { current: undefined, tenantPolicy: tenant, learnerPolicies: [] },
          { current: undefined, tenantPolicy: undefined, learnerPolicies: [] },
          { current: learner, tenantPolicy: tenant, learnerPolicies: [] },
        ]);
      });

      it("shows an update or delete the policy, its tenant's policy, and every learner when it is the tenant's own", async () => {
        const { value: tenant } = await store.createPolicy(fields("acme"), meta(1));
        const { value: s2 } = await store.createPolicy(fields("acme", "s2"), meta(2));
        const { value: s1 } = await store.createPolicy(fields("acme", "s1"), meta(3));
        await store.createPolicy(fields("globex", "s1"), meta(4));
        const { states, check } = seen();
        const { value: tenant2 } = await store.updatePolicy(tenant.policyId, fields("acme"), 1, meta(5), check);
        await store.updatePolicy(s1.policyId, fields("acme", "s1"), 1, meta(6), check);
        await store.deletePolicy(s2.policyId, 1, meta(7), check);
        await expect(store.updatePolicy("pol_unknown", fields("acme"), 1, meta(8), check)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.deletePolicy("pol_unknown", 1, meta(8), check)).rejects.toBeInstanceOf(NotFoundError);
        const none = { current: undefined, tenantPolicy: undefined, learnerPolicies: [] };
        expect(states).toEqual([
          { current: tenant, tenantPolicy: tenant, learnerPolicies: [s1, s2] }, // by learner id
          { current: s1, tenantPolicy: tenant2, learnerPolicies: [] },
          { current: s2, tenantPolicy: tenant2, learnerPolicies: [] },
          none,
          none,
        ]);
      });

      it("writes nothing when the check refuses, and refuses before the store's own checks", async () => {
        const { value } = await store.createPolicy(fields("acme"), meta(1));
        const before = await store.loadSnapshotData();
        const outbox = await store.unpublishedChanges(100);
        const refused = new Error("refused by the check");
        const refuse: PolicyWriteCheck = () => {
          throw refused;
        };
        for (const attempt of [
          () => store.createPolicy(fields("acme", "s1"), meta(2), refuse),
          () => store.createPolicy(fields("acme"), meta(2), refuse), // would be ALREADY_EXISTS
          () => store.updatePolicy(value.policyId, fields("acme", "", FULL), 1, meta(2), refuse),
          () => store.updatePolicy(value.policyId, fields("acme"), 9, meta(2), refuse), // would be a version conflict
          () => store.updatePolicy("pol_unknown", fields("acme"), 1, meta(2), refuse), // would be NOT_FOUND
          () => store.deletePolicy(value.policyId, 1, meta(2), refuse),
        ]) {
          expect(await attempt().catch((e: unknown) => e)).toBe(refused);
        }
        expect(await store.loadSnapshotData()).toEqual(before);
        expect(await store.unpublishedChanges(100)).toEqual(outbox);
        expect(await store.getPolicy(value.policyId, 2)).toBeUndefined();
        // The store still works: nothing was left locked or half-open.
        expect((await store.updatePolicy(value.policyId, fields("acme"), 1, meta(3))).changeVersion).toBe(before.changeVersion + 1);
      });

      it("checks against the state the write commits on, whatever commits concurrently (two stores)", async () => {
        const { value: tenant } = await store.createPolicy(fields("acme"), meta(1));
        const other = await fixture.reopen();
        const tenantSaw: PolicyWriteState[] = [];
        const learnerSaw: PolicyWriteState[] = [];
        const [update, create] = await Promise.all([
          store.updatePolicy(tenant.policyId, fields("acme", "", FULL), 1, meta(2), (s) => void tenantSaw.push(s)),
          other.createPolicy(fields("acme", "s1"), meta(3), (s) => void learnerSaw.push(s)),
        ]);
        // Whichever committed second saw the first one's result, never the state from before it.
        if (update.changeVersion > create.changeVersion) {
          expect(tenantSaw.at(-1)?.learnerPolicies).toEqual([create.value]);
        } else {
          expect(learnerSaw.at(-1)?.tenantPolicy).toEqual(update.value);
        }
      });
    });

    it("keeps policies, history and the change version across close and reopen", async () => {
      const { value: v1 } = await store.createPolicy(fields("acme", "", FULL), meta(1));
      await store.setRegionStatus("eu-west-1", "DEGRADED", "maintenance", meta(2));
      const { value: v2, changeVersion } = await store.updatePolicy(v1.policyId, fields("acme"), 1, meta(2));
      const before = await store.loadSnapshotData();
      const outbox = await store.unpublishedChanges(10);
      await store.close();
      const reopened = await fixture.reopen();
      expect(await reopened.loadSnapshotData()).toEqual(before);
      expect(before.regionStatuses).toHaveLength(1);
      expect(await reopened.unpublishedChanges(10)).toEqual(outbox);
      expect(await reopened.getPolicy(v1.policyId, 1)).toEqual(v1);
      expect(await reopened.getPolicy(v1.policyId)).toEqual(v2);
      const next = await reopened.createPolicy(fields("acme", "student1"), meta(3));
      expect(next.changeVersion).toBe(changeVersion + 1);
    });

    listingContract(() => fixture);
    changeLogContract(() => fixture);
    overrideContract(() => fixture);
  });
}
