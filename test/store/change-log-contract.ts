import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import type { ChangeRecord, PolicyStore } from "../../src/store/policy-store.js";
import { FULL, T0, byKey, fields, meta, type PolicyStoreFixture } from "./contract-fixtures.js";

/** The change row of write number `version` of a test, which all use meta(version). */
const change = (version: number, kind: "policy" | "region", id: string): ChangeRecord => ({
  version,
  kind,
  ids: [id],
  committedAt: T0 + version,
});

/** Change log, outbox, region statuses and ping: part of the shared suite (called inside its describe). */
export function changeLogContract(current: () => PolicyStoreFixture): void {
  const store = (): PolicyStore => current().store;

  /** Seven writes touching policies a, b, c and region eu-west-1; b ends deleted. */
  async function history() {
    const a = await store().createPolicy(fields("acme"), meta(1)); // 1
    const b = await store().createPolicy(fields("acme", "b1"), meta(2)); // 2
    await store().setRegionStatus("eu-west-1", "DOWN", "outage", meta(3)); // 3
    const a2 = await store().updatePolicy(a.value.policyId, fields("acme", "", FULL), 1, meta(4)); // 4
    await store().deletePolicy(b.value.policyId, 1, meta(5)); // 5
    const region = await store().setRegionStatus("eu-west-1", "DEGRADED", "recovering", meta(6, "ops")); // 6
    const c = await store().createPolicy(fields("globex"), meta(7)); // 7
    return { a: a2.value, b: b.value, c: c.value, region: region.value };
  }

  describe("change log", () => {
    it("records one change per committed write, with the version the write returned", async () => {
      const { a, b, c } = await history();
      const since = await store().loadChangesSince(0);
      expect(since?.changes).toEqual([
        change(1, "policy", a.policyId),
        change(2, "policy", b.policyId),
        change(3, "region", "eu-west-1"),
        change(4, "policy", a.policyId),
        change(5, "policy", b.policyId),
        change(6, "region", "eu-west-1"),
        change(7, "policy", c.policyId),
      ]);
      expect(since?.changeVersion).toBe(7);
    });

    it("returns the current state of what changed after a version, and what was deleted", async () => {
      const { a, b, c, region } = await history();
      const since = await store().loadChangesSince(2);
      expect(since?.changes.map((x) => x.version)).toEqual([3, 4, 5, 6, 7]);
      expect(since?.policies).toEqual([a, c].sort(byKey));
      expect(since?.deletedPolicyIds).toEqual([b.policyId]);
      expect(since?.regionStatuses).toEqual([region]);
      const late = await store().loadChangesSince(6);
      expect(late).toEqual({
        changes: [change(7, "policy", c.policyId)],
        policies: [c],
        deletedPolicyIds: [],
        regionStatuses: [],
        overrides: [],
        changeVersion: 7,
      });
    });

    it("answers an empty delta at the current version and undefined for a future or invalid one", async () => {
      await history();
      expect(await store().loadChangesSince(7)).toEqual({
        changes: [],
        policies: [],
        deletedPolicyIds: [],
        regionStatuses: [],
        overrides: [],
        changeVersion: 7,
      });
      expect(await store().loadChangesSince(8)).toBeUndefined();
      expect(await store().loadChangesSince(-1)).toBeUndefined();
      expect(await store().loadChangesSince(1.5)).toBeUndefined();
      expect(await store().loadChangesSince(0)).toBeDefined();
    });

    it("answers undefined once the log no longer reaches back to the version asked for", async () => {
      await history();
      await current().pruneChanges(3);
      expect(await store().loadChangesSince(0)).toBeUndefined();
      expect(await store().loadChangesSince(2)).toBeUndefined();
      expect((await store().loadChangesSince(3))?.changes.map((x) => x.version)).toEqual([4, 5, 6, 7]);
    });

    it("reads changes and snapshots consistently while writes commit", async () => {
      const start = (await store().loadSnapshotData()).changeVersion;
      const other = await current().reopen();
      const writes = Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? other : store()).createPolicy(fields("acme", `s${i}`), meta(i))),
      );
      const reads: Promise<void>[] = [];
      for (let i = 0; i < 12; i++) {
        reads.push(
          store()
            .loadSnapshotData()
            .then((snap) => expect(snap.policies).toHaveLength(snap.changeVersion - start)),
          other.loadChangesSince(start).then((delta) => {
            expect(delta?.changes).toHaveLength((delta?.changeVersion ?? 0) - start);
            expect(delta?.policies).toHaveLength(delta?.changes.length ?? -1);
          }),
        );
      }
      await Promise.all([writes, ...reads]);
    });
  });

  describe("outbox", () => {
    it("lists unpublished changes oldest first, up to the limit", async () => {
      const { a, b } = await history();
      expect(await store().unpublishedChanges(2)).toEqual([
        change(1, "policy", a.policyId),
        change(2, "policy", b.policyId),
      ]);
      expect(await store().unpublishedChanges(100)).toHaveLength(7);
      expect(await store().unpublishedChanges(0)).toEqual([]);
    });

    it("marks changes published, idempotently, without advancing the change version", async () => {
      await history();
      await store().markPublished([1, 3]);
      await store().markPublished([3, 1, 99]); // again, and a version that does not exist
      await store().markPublished([]);
      expect((await store().unpublishedChanges(100)).map((c) => c.version)).toEqual([2, 4, 5, 6, 7]);
      expect((await store().loadSnapshotData()).changeVersion).toBe(7);
      // Published changes stay in the change log for replicas catching up.
      expect((await store().loadChangesSince(0))?.changes).toHaveLength(7);
      await store().markPublished([2, 4, 5, 6, 7]);
      expect(await store().unpublishedChanges(100)).toEqual([]);
    });
  });

  describe("region status", () => {
    it("records a status, replaces it on the next write, and snapshots every region by id", async () => {
      const first = await store().setRegionStatus("us-east-1", "DOWN", "outage", meta(1));
      expect(first).toEqual({
        value: { regionId: "us-east-1", status: "DOWN", reason: "outage", updatedAt: T0 + 1, updatedBy: "admin-1" },
        changeVersion: 1,
      });
      await store().setRegionStatus("eu-west-1", "DEGRADED", "", meta(2));
      const again = await store().setRegionStatus("us-east-1", "HEALTHY", "recovered", meta(3, "ops"));
      expect(again.changeVersion).toBe(3);
      const snap = await store().loadSnapshotData();
      expect(snap.regionStatuses).toEqual([
        { regionId: "eu-west-1", status: "DEGRADED", reason: "", updatedAt: T0 + 2, updatedBy: "admin-1" },
        again.value,
      ]);
      expect(snap.changeVersion).toBe(3);
      expect(snap.policies).toEqual([]);
    });
  });

  describe("ping", () => {
    it("answers while open and is UNAVAILABLE once closed", async () => {
      await expect(store().ping()).resolves.toBeUndefined();
      await store().close();
      await expect(store().ping()).rejects.toBeInstanceOf(UnavailableError);
    });
  });
}
