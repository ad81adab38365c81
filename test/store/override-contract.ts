import { describe, expect, it } from "vitest";
import type { EmergencyOverride } from "../../src/domain/emergency-override.js";
import { FailedPreconditionError, NotFoundError } from "../../src/domain/errors.js";
import type { AuditStore } from "../../src/store/audit-store.js";
import type { NewEmergencyOverride, PolicyStore } from "../../src/store/policy-store.js";
import { T0, meta, type PolicyStoreFixture } from "./contract-fixtures.js";

const HOUR = 3_600_000;

/** A PENDING request of `tenantId`, made at T0 + n by "req-1". */
export function newOverride(tenantId: string, n: number, over: Partial<NewEmergencyOverride> = {}): NewEmergencyOverride {
  return {
    tenantId,
    reason: "primary region outage, exam results must be served",
    affectedLearners: ["s1", "s2"],
    sourceRegion: "us-east-1",
    targetRegion: "eu-west-1",
    durationHours: 2,
    status: "PENDING",
    requestedBy: "req-1",
    requestedAt: T0 + n,
    approvedBy: "",
    approvedAt: undefined,
    expiresAt: undefined,
    revokedBy: "",
    revokedAt: undefined,
    revokeReason: "",
    ...over,
  };
}

const approved = (n: number) => ({ status: "ACTIVE" as const, approvedBy: "app-1", approvedAt: T0 + n, expiresAt: T0 + n + 2 * HOUR });

/** Emergency overrides: part of the shared suite (called inside its describe). */
export function overrideContract(current: () => PolicyStoreFixture): void {
  const store = (): PolicyStore => current().store;

  describe("emergency overrides", () => {
    it("creates a PENDING override with a server id and no uses, as one change of kind override", async () => {
      const { value, changeVersion } = await store().createOverride(newOverride("acme", 1), meta(1, "req-1"));
      expect(value).toEqual({ ...newOverride("acme", 1), overrideId: expect.stringMatching(/^ovr_\w+$/), usageCount: 0, lastUsedAt: undefined });
      expect(changeVersion).toBe(1);
      expect(await store().getOverride(value.overrideId)).toEqual(value);
      expect(await store().getOverride("ovr_unknown")).toBeUndefined();
      const since = await store().loadChangesSince(0);
      expect(since?.changes).toEqual([{ version: 1, kind: "override", ids: [value.overrideId], committedAt: T0 + 1 }]);
      expect(since?.overrides).toEqual([value]);
      // Only ACTIVE overrides are in a snapshot.
      expect((await store().loadSnapshotData()).overrides ?? []).toEqual([]);
    });

    it("records every status change in the audit chain, in the transaction of the change", async () => {
      const audit = store() as PolicyStore & Partial<AuditStore>;
      if (audit.readAuditEntries === undefined) return;
      const pending = await store().createOverride(newOverride("acme", 1), meta(1, "req-1"));
      const active = await store().createOverride(newOverride("acme", 2, approved(2)), meta(2, "req-1"));
      await store().transitionOverride(pending.value.overrideId, "PENDING", approved(3), meta(3, "app-1"), "confirmed by phone");
      await store().transitionOverride(active.value.overrideId, "ACTIVE", { status: "EXPIRED" }, meta(4, "sweeper"));
      await store().addOverrideUsage([{ overrideId: pending.value.overrideId, count: 2, lastUsedAt: T0 + 5 }]);
      const entries = await audit.readAuditEntries(1, 100, 100);
      expect(entries.map((e) => [e.kind, e.subjectId, e.tenantId, e.actor, e.occurredAt])).toEqual([
        ["OVERRIDE_REQUESTED", pending.value.overrideId, "acme", "req-1", T0 + 1],
        ["OVERRIDE_REQUESTED", active.value.overrideId, "acme", "req-1", T0 + 2],
        ["OVERRIDE_APPROVED", active.value.overrideId, "acme", "req-1", T0 + 2],
        ["OVERRIDE_APPROVED", pending.value.overrideId, "acme", "app-1", T0 + 3],
        ["OVERRIDE_EXPIRED", active.value.overrideId, "acme", "sweeper", T0 + 4],
        // Usage adds no entry: each use is an OVERRIDE_USED entry written with its decision.
      ]);
      expect(JSON.parse(entries[3]!.beforeJson)).toMatchObject({ status: "PENDING" });
      expect(JSON.parse(entries[3]!.afterJson)).toMatchObject({ status: "ACTIVE", approvedBy: "app-1", note: "confirmed by phone" });
    });

    it("moves an override only from the expected status, naming the status it found", async () => {
      const { value } = await store().createOverride(newOverride("acme", 1), meta(1));
      const activated = await store().transitionOverride(value.overrideId, "PENDING", approved(2), meta(2, "app-1"), "looks right");
      expect(activated.value).toEqual({ ...value, ...approved(2) });
      expect(await store().getOverride(value.overrideId)).toEqual(activated.value);
      const err = await store()
        .transitionOverride(value.overrideId, "PENDING", approved(3), meta(3))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FailedPreconditionError);
      expect((err as Error).message).toBe(`emergency override ${value.overrideId} is ACTIVE, not PENDING`);
      await expect(store().transitionOverride("ovr_unknown", "PENDING", approved(3), meta(3))).rejects.toBeInstanceOf(NotFoundError);
      // The refused transitions left no change behind.
      expect((await store().loadSnapshotData()).changeVersion).toBe(2);
      const revoked = await store().transitionOverride(
        value.overrideId,
        "ACTIVE",
        { status: "REVOKED", revokedBy: "app-2", revokedAt: T0 + 4, revokeReason: "resolved" },
        meta(4, "app-2"),
      );
      expect(revoked.value).toMatchObject({ status: "REVOKED", revokedBy: "app-2", revokedAt: T0 + 4, revokeReason: "resolved", approvedBy: "app-1" });
      expect(revoked.changeVersion).toBe(3);
    });

    it("lets exactly one of two concurrent approvals win", async () => {
      const { value } = await store().createOverride(newOverride("acme", 1), meta(1));
      const other = await current().reopen();
      const results = await Promise.allSettled([
        store().transitionOverride(value.overrideId, "PENDING", approved(2), meta(2, "app-1")),
        other.transitionOverride(value.overrideId, "PENDING", { ...approved(2), approvedBy: "app-2" }, meta(2, "app-2")),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const [lost] = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(lost).toBeInstanceOf(FailedPreconditionError);
      expect((await store().loadSnapshotData()).changeVersion).toBe(2);
    });

    it("snapshots the ACTIVE overrides, and reports every changed one (whatever its status) in a delta", async () => {
      const a = await store().createOverride(newOverride("acme", 1, approved(1)), meta(1));
      const b = await store().createOverride(newOverride("globex", 2), meta(2));
      const c = await store().createOverride(newOverride("acme", 3), meta(3));
      const bActive = await store().transitionOverride(b.value.overrideId, "PENDING", approved(4), meta(4));
      const snap = await store().loadSnapshotData();
      expect(snap.overrides?.slice().sort(byId)).toEqual([a.value, bActive.value].sort(byId));
      const aExpired = await store().transitionOverride(a.value.overrideId, "ACTIVE", { status: "EXPIRED" }, meta(5, "sweeper"));
      const delta = await store().loadChangesSince(3);
      expect(delta?.changes.map((x) => [x.version, x.kind])).toEqual([
        [4, "override"],
        [5, "override"],
      ]);
      expect(delta?.overrides?.slice().sort(byId)).toEqual([aExpired.value, bActive.value].sort(byId));
      expect((await store().loadSnapshotData()).overrides).toEqual([bActive.value]);
      expect(c.value.status).toBe("PENDING");
    });

    it("adds usage from several flushes, keeps the latest use, and leaves status changes alone", async () => {
      const { value } = await store().createOverride(newOverride("acme", 1, approved(1)), meta(1));
      const first = await store().addOverrideUsage([
        { overrideId: value.overrideId, count: 3, lastUsedAt: T0 + 50 },
        { overrideId: "ovr_unknown", count: 9, lastUsedAt: T0 + 60 },
      ]);
      expect(first).toBe(1);
      await store().addOverrideUsage([{ overrideId: value.overrideId, count: 2, lastUsedAt: T0 + 40 }]);
      expect(await store().getOverride(value.overrideId)).toMatchObject({ usageCount: 5, lastUsedAt: T0 + 50 });
      const revoked = await store().transitionOverride(value.overrideId, "ACTIVE", { status: "REVOKED", revokedBy: "x", revokedAt: T0 + 4, revokeReason: "done" }, meta(4));
      expect(revoked.value).toMatchObject({ usageCount: 5, lastUsedAt: T0 + 50 });
      // Uses counted before the revocation still count.
      await store().addOverrideUsage([{ overrideId: value.overrideId, count: 1, lastUsedAt: T0 + 70 }]);
      expect(await store().getOverride(value.overrideId)).toMatchObject({ status: "REVOKED", usageCount: 6, lastUsedAt: T0 + 70 });
    });

    it("adds usage without a change: no counter bump, no change-log row, nothing to publish", async () => {
      const { value, changeVersion } = await store().createOverride(newOverride("acme", 1, approved(1)), meta(1));
      const outbox = await store().unpublishedChanges(10);
      expect(await store().addOverrideUsage([{ overrideId: value.overrideId, count: 4, lastUsedAt: T0 + 9 }])).toBe(1);
      expect((await store().loadSnapshotData()).changeVersion).toBe(changeVersion);
      expect((await store().loadChangesSince(changeVersion))?.changes).toEqual([]);
      expect(await store().unpublishedChanges(10)).toEqual(outbox);
      expect(await store().getOverride(value.overrideId)).toMatchObject({ usageCount: 4, lastUsedAt: T0 + 9 });
    });

    it("adds the usage of concurrent flushes (two stores on one database) without losing any", async () => {
      const { value } = await store().createOverride(newOverride("acme", 1, approved(1)), meta(1));
      const other = await current().reopen();
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other : store()).addOverrideUsage([{ overrideId: value.overrideId, count: i + 1, lastUsedAt: T0 + 10 * i }]),
        ),
      );
      expect(await store().getOverride(value.overrideId)).toMatchObject({ usageCount: 21, lastUsedAt: T0 + 50 });
    });

    it("writes nothing for usage of unknown overrides only, or no usage at all", async () => {
      expect(await store().addOverrideUsage([{ overrideId: "ovr_unknown", count: 1, lastUsedAt: T0 }])).toBe(0);
      expect(await store().addOverrideUsage([])).toBe(0);
      expect((await store().loadSnapshotData()).changeVersion).toBe(0);
    });

    describe("listing", () => {
      /** Seven overrides of three tenants; two of them no longer open. */
      async function seed(): Promise<EmergencyOverride[]> {
        const made: EmergencyOverride[] = [];
        const tenants = ["t2", "t1", "t3", "t1", "t2", "t1", "t3"];
        for (const [i, tenantId] of tenants.entries()) made.push((await store().createOverride(newOverride(tenantId, 10 + i), meta(i + 1))).value);
        // Two with the same request time, to page through a tie.
        made.push((await store().createOverride(newOverride("t1", 16), meta(8))).value);
        made[1] = (await store().transitionOverride(made[1]!.overrideId, "PENDING", { status: "EXPIRED" }, meta(9))).value;
        made[4] = (await store().transitionOverride(made[4]!.overrideId, "PENDING", { status: "REVOKED", revokedBy: "x", revokedAt: T0 + 10, revokeReason: "no" }, meta(10))).value;
        return made.sort(newestFirst);
      }

      it("lists newest first, filtered by tenant, tenant set and openness", async () => {
        const all = await seed();
        const list = (q: Partial<Parameters<PolicyStore["listOverrides"]>[0]>) =>
          store().listOverrides({ tenantId: "", includeInactive: true, limit: 100, after: undefined, ...q });
        expect(await list({})).toEqual(all);
        expect(await list({ tenantId: "t1" })).toEqual(all.filter((o) => o.tenantId === "t1"));
        expect(await list({ tenantIn: ["t3", "t2"] })).toEqual(all.filter((o) => o.tenantId !== "t1"));
        expect(await list({ tenantId: "t1", tenantIn: ["t3"] })).toEqual([]);
        expect(await list({ tenantIn: [] })).toEqual([]);
        expect(await list({ includeInactive: false })).toEqual(all.filter((o) => o.status === "PENDING"));
        expect(await list({ limit: 0 })).toEqual([]);
      });

      it("pages by (requested_at, override_id) without duplicates or gaps", async () => {
        const all = await seed();
        const seen: EmergencyOverride[] = [];
        let after: { requestedAt: number; overrideId: string } | undefined;
        for (;;) {
          const page = await store().listOverrides({ tenantId: "", includeInactive: true, limit: 3, after });
          seen.push(...page);
          if (page.length < 3) break;
          const last = page[page.length - 1]!;
          after = { requestedAt: last.requestedAt, overrideId: last.overrideId };
        }
        expect(seen).toEqual(all);
      });
    });
  });
}

const byId = (a: EmergencyOverride, b: EmergencyOverride) => (a.overrideId < b.overrideId ? -1 : a.overrideId > b.overrideId ? 1 : 0);
const newestFirst = (a: EmergencyOverride, b: EmergencyOverride) => b.requestedAt - a.requestedAt || -byId(a, b);
