import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import type { StoredPolicy } from "../../src/domain/policy.js";
import { createSnapshotSync, type SnapshotSync } from "../../src/replication/snapshot-sync.js";
import type { ChangeRecord, ChangesSince, SnapshotData } from "../../src/store/policy-store.js";
import { fields } from "../store/contract-fixtures.js";

/** A store of policies with a change log, in memory; `down` makes every read fail. */
function fakeStore() {
  const policies = new Map<string, StoredPolicy>();
  const log: ChangeRecord[] = [];
  const calls = { full: 0, delta: 0 };
  const state = { down: false, prunedThrough: 0 };
  const put = (id: string, tenantId: string, primaryRegion = "us-east", committedAt = Date.now()) => {
    const version = log.length + 1;
    const previous = policies.get(id);
    policies.set(id, {
      ...fields(tenantId, "", { primaryRegion }),
      policyId: id,
      version: (previous?.version ?? 0) + 1,
      createdAt: 0,
      updatedAt: 0,
      createdBy: "t",
      updatedBy: "t",
    });
    log.push({ version, kind: "policy", ids: [id], committedAt });
    return version;
  };
  const remove = (id: string, committedAt = Date.now()) => {
    policies.delete(id);
    log.push({ version: log.length + 1, kind: "policy", ids: [id], committedAt });
    return log.length;
  };
  return {
    policies,
    calls,
    state,
    put,
    remove,
    async loadSnapshotData(): Promise<SnapshotData> {
      calls.full++;
      if (state.down) throw new Error("store down");
      return { policies: [...policies.values()], regionStatuses: [], changeVersion: log.length };
    },
    async loadChangesSince(since: number): Promise<ChangesSince | undefined> {
      calls.delta++;
      if (state.down) throw new Error("store down");
      if (since < state.prunedThrough) return undefined;
      const changes = log.slice(since);
      const ids = [...new Set(changes.flatMap((c) => c.ids))];
      return {
        changes,
        policies: ids.flatMap((id) => (policies.has(id) ? [policies.get(id)!] : [])),
        deletedPolicyIds: ids.filter((id) => !policies.has(id)),
        regionStatuses: [],
        changeVersion: log.length,
      };
    },
  };
}

const quiet = { info() {}, warn() {}, error() {} };
let sync: SnapshotSync | undefined;
afterEach(async () => {
  await sync?.stop();
  sync = undefined;
});

function start(store: ReturnType<typeof fakeStore>, over: { maxStalenessMs?: number; lags?: number[] } = {}) {
  sync = createSnapshotSync({
    store,
    regions: DEFAULT_REGIONS,
    defaultRegion: undefined,
    compliance: {},
    clock: Date.now,
    logger: quiet,
    maxStalenessMs: over.maxStalenessMs ?? 60_000,
    observePropagationLag: (s) => over.lags?.push(s),
  });
  return sync;
}

describe("snapshot sync", () => {
  it("loads fully at start, then applies each announced change as a delta", async () => {
    const store = fakeStore();
    store.put("p1", "acme");
    const lags: number[] = [];
    const s = start(store, { lags });
    await s.start();
    expect(s.snapshots.current().version).toBe(1);
    const v2 = store.put("p2", "beta", "us-west", Date.now() - 40);
    s.onEvent({ version: v2, kind: "policy", ids: ["p2"] });
    expect(await s.snapshots.waitForVersion(2, 2_000)).toBe(true);
    expect(s.snapshots.current().effectivePolicy("beta", "")?.primaryRegion).toBe("us-west");
    expect(store.calls.full).toBe(1);
    expect(lags.length).toBe(1);
    expect(lags[0]).toBeGreaterThanOrEqual(0.04);
  });

  it("ignores versions it already has (a relay may publish a change twice)", async () => {
    const store = fakeStore();
    const s = start(store);
    await s.start();
    await s.catchUp("settle");
    const v = store.put("p1", "acme");
    s.onEvent({ version: v, kind: "policy", ids: ["p1"] });
    await s.snapshots.waitForVersion(v, 2_000);
    const reads = store.calls.delta;
    s.onEvent({ version: v, kind: "policy", ids: ["p1"] });
    s.onEvent({ version: v - 1, kind: "policy", ids: [] });
    expect(store.calls.delta).toBe(reads);
    expect(s.gaps).toBe(0);
  });

  it("on a gap, catches up every change since its version", async () => {
    const store = fakeStore();
    const s = start(store);
    await s.start();
    store.put("p1", "acme"); // its event is lost
    const v2 = store.put("p2", "beta");
    s.onEvent({ version: v2, kind: "policy", ids: ["p2"] });
    expect(await s.snapshots.waitForVersion(v2, 2_000)).toBe(true);
    expect(s.gaps).toBe(1);
    expect(s.snapshots.current().effectivePolicy("acme", "")).toBeDefined();
    expect(store.calls.full).toBe(1);
  });

  it("reloads everything when the change log no longer reaches back", async () => {
    const store = fakeStore();
    const s = start(store);
    await s.start();
    store.put("p1", "acme");
    store.state.prunedThrough = 1;
    await s.catchUp("test");
    expect(s.snapshots.current().version).toBe(1);
    expect(store.calls.full).toBe(2);
    expect(s.fullReloads).toBe(1);
  });

  it("keeps the last good snapshot while the store is down, and catches up on its own once it is back", async () => {
    const store = fakeStore();
    store.put("p1", "acme");
    const s = start(store, { maxStalenessMs: 200 });
    await s.start();
    store.state.down = true;
    const v2 = store.put("p2", "beta");
    s.onEvent({ version: v2, kind: "policy", ids: ["p2"] });
    expect(await s.catchUp("test")).toBeUndefined();
    expect(s.snapshots.current().version).toBe(1);
    store.state.down = false;
    // No further event: the retry timer brings it in.
    expect(await s.snapshots.waitForVersion(v2, 3_000)).toBe(true);
  });

  it("after silence longer than the staleness bound, asks the store and catches up", async () => {
    const store = fakeStore();
    const s = start(store, { maxStalenessMs: 150 });
    await s.start();
    const v = store.put("p1", "acme"); // never announced
    const before = s.syncedAt!;
    expect(await s.snapshots.waitForVersion(v, 3_000)).toBe(true);
    expect(s.syncedAt!).toBeGreaterThan(before);
  });

  describe("a change committed on this replica", () => {
    it("is applied as written, without reading it back, and counts as the store confirming that version", async () => {
      const store = fakeStore();
      store.put("p1", "acme");
      const s = start(store);
      await s.start();
      const reads = store.calls.delta;
      const committedAt = Date.now() + 60_000;
      const v2 = store.put("p2", "beta", "us-west");
      s.onCommitted({ version: v2, kind: "policy", ids: ["p2"] }, { committedAt, policies: [store.policies.get("p2")!], deletedPolicyIds: [] });
      expect(await s.snapshots.waitForVersion(v2, 2_000)).toBe(true);
      const v3 = store.remove("p1");
      s.onCommitted({ version: v3, kind: "policy", ids: ["p1"] }, { committedAt, policies: [], deletedPolicyIds: ["p1"] });
      expect(await s.snapshots.waitForVersion(v3, 2_000)).toBe(true);
      expect(store.calls.delta).toBe(reads);
      expect(s.snapshots.current().effectivePolicy("beta", "")?.primaryRegion).toBe("us-west");
      expect(s.snapshots.current().effectivePolicy("acme", "")).toBeUndefined();
      expect(s.syncedAt).toBe(committedAt);
    });

    it("is read from the store with what it missed when it is not the next version", async () => {
      const store = fakeStore();
      const s = start(store);
      await s.start();
      store.put("p1", "acme"); // another replica's change, its event lost
      const v2 = store.put("p2", "beta");
      s.onCommitted({ version: v2, kind: "policy", ids: ["p2"] }, { committedAt: Date.now(), policies: [store.policies.get("p2")!], deletedPolicyIds: [] });
      expect(await s.snapshots.waitForVersion(v2, 2_000)).toBe(true);
      expect(store.calls.delta).toBe(1);
      expect(s.snapshots.current().effectivePolicy("acme", "")).toBeDefined();
    });

    it("is applied, then what was announced after it is read from the store, in version order", async () => {
      const store = fakeStore();
      const s = start(store);
      await s.start();
      const v1 = store.put("p1", "acme", "us-west");
      const v2 = store.put("p2", "beta"); // another replica's, announced while this one applies its own
      s.onCommitted({ version: v1, kind: "policy", ids: ["p1"] }, { committedAt: Date.now(), policies: [store.policies.get("p1")!], deletedPolicyIds: [] });
      s.onEvent({ version: v2, kind: "policy", ids: ["p2"] });
      expect(await s.snapshots.waitForVersion(v2, 2_000)).toBe(true);
      expect(store.calls.delta).toBe(1); // only what came after v1
      expect(s.snapshots.current().effectivePolicy("acme", "")?.primaryRegion).toBe("us-west");
      expect(s.snapshots.current().effectivePolicy("beta", "")).toBeDefined();
    });

    it("never replaces a snapshot that already has it", async () => {
      const store = fakeStore();
      const s = start(store);
      await s.start();
      const v1 = store.put("p1", "acme", "us-west");
      await s.catchUp("test");
      const current = s.snapshots.current();
      const stale = { ...store.policies.get("p1")!, primaryRegion: "eu-west" };
      s.onCommitted({ version: v1, kind: "policy", ids: ["p1"] }, { committedAt: Date.now(), policies: [stale], deletedPolicyIds: [] });
      await s.catchUp("test");
      expect(s.snapshots.current()).toBe(current);
    });
  });

  it("waitFor answers at once when current and catches up when behind", async () => {
    const store = fakeStore();
    const s = start(store);
    await s.start();
    await expect(s.waitFor(0, 10)).resolves.toBe(true);
    const v = store.put("p1", "acme");
    await expect(s.waitFor(v, 2_000)).resolves.toBe(true);
    await expect(s.waitFor(v + 5, 50)).resolves.toBe(false);
  });
});
