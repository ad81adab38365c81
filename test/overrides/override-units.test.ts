import { describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import type { EmergencyOverride } from "../../src/domain/emergency-override.js";
import { createOverrideSweeper } from "../../src/overrides/override-sweeper.js";
import { createOverrideUsageCounter } from "../../src/overrides/override-usage-counter.js";
import { applySnapshotChanges } from "../../src/snapshot/apply-snapshot-changes.js";
import { buildSnapshot } from "../../src/snapshot/snapshot.js";
import type { OverrideUsage } from "../../src/store/policy-store.js";
import { fields } from "../store/contract-fixtures.js";

const quiet = { warn() {}, info() {} };

function override(id: string, tenantId: string, over: Partial<EmergencyOverride> = {}): EmergencyOverride {
  return {
    overrideId: id,
    tenantId,
    reason: "critical system failure in the primary region",
    affectedLearners: [],
    sourceRegion: "us-east",
    targetRegion: "eu-west",
    durationHours: 1,
    status: "ACTIVE",
    requestedBy: "alice",
    requestedAt: 1,
    approvedBy: "bob",
    approvedAt: 2,
    expiresAt: 3_600_002,
    revokedBy: "",
    revokedAt: undefined,
    revokeReason: "",
    usageCount: 0,
    lastUsedAt: undefined,
    ...over,
  };
}

describe("override usage counter", () => {
  function counter(options: { fail?: () => boolean; maxPending?: number } = {}) {
    const writes: OverrideUsage[][] = [];
    const usage = createOverrideUsageCounter({
      store: {
        async addOverrideUsage(batch) {
          if (options.fail?.()) throw new Error("store down");
          writes.push([...batch]);
          return batch.length;
        },
      },
      flushIntervalMs: 60_000,
      maxPending: options.maxPending ?? 1_000,
      logger: quiet,
    });
    return { usage, writes };
  }

  it("counts in memory and writes one merged batch per flush", async () => {
    const { usage, writes } = counter();
    usage.record("ovr_a", 10);
    usage.record("ovr_b", 11);
    usage.record("ovr_a", 30);
    usage.record("ovr_a", 20);
    expect(writes).toEqual([]); // nothing on the decision path
    expect(usage.pending).toBe(4);
    await usage.flush();
    expect(writes).toEqual([
      [
        { overrideId: "ovr_a", count: 3, lastUsedAt: 30 },
        { overrideId: "ovr_b", count: 1, lastUsedAt: 11 },
      ],
    ]);
    expect(usage.pending).toBe(0);
    await usage.flush();
    expect(writes).toHaveLength(1); // nothing new, no write
  });

  it("keeps the counts of a failed flush for the next one", async () => {
    let down = true;
    const { usage, writes } = counter({ fail: () => down });
    usage.record("ovr_a", 10);
    await usage.flush();
    expect(usage.pending).toBe(1);
    usage.record("ovr_a", 15);
    down = false;
    await usage.flush();
    expect(writes).toEqual([[{ overrideId: "ovr_a", count: 2, lastUsedAt: 15 }]]);
  });

  it("flushes early once enough uses wait, and at stop", async () => {
    const { usage, writes } = counter({ maxPending: 3 });
    usage.start();
    for (let i = 0; i < 3; i++) usage.record("ovr_a", i);
    await new Promise((resolve) => setImmediate(resolve));
    await usage.flush();
    expect(writes[0]).toEqual([{ overrideId: "ovr_a", count: 3, lastUsedAt: 2 }]);
    usage.record("ovr_b", 5);
    await usage.stop();
    expect(writes.at(-1)).toEqual([{ overrideId: "ovr_b", count: 1, lastUsedAt: 5 }]);
  });
});

describe("override sweeper", () => {
  it("runs one sweep at a time and keeps going after a failure", async () => {
    let calls = 0;
    let release: (n: number) => void = () => {};
    const sweeper = createOverrideSweeper({
      sweep: () => {
        calls++;
        if (calls === 2) return Promise.reject(new Error("store down"));
        return new Promise<number>((resolve) => (release = resolve));
      },
      intervalMs: 60_000,
      logger: quiet,
    });
    const first = sweeper.sweep();
    const joined = sweeper.sweep();
    release(2);
    expect(await first).toBe(2);
    expect(await joined).toBe(2);
    expect(calls).toBe(1);
    expect(await sweeper.sweep()).toBe(0); // failed: logged, answered 0
    const third = sweeper.sweep();
    release(0);
    expect(await third).toBe(0);
    await sweeper.stop();
  });
});

describe("overrides in the snapshot", () => {
  const base = () =>
    buildSnapshot({
      version: 1,
      regions: DEFAULT_REGIONS,
      policies: [{ ...fields("acme", "", { primaryRegion: "us-east" }), policyId: "pol_1", version: 1, createdAt: 0, updatedAt: 0, createdBy: "a", updatedBy: "a" }],
      overrides: [override("ovr_1", "acme"), override("ovr_2", "acme", { status: "PENDING" }), override("ovr_3", "globex")],
      defaultRegion: undefined,
      builtAt: 1,
    });
  const delta = (version: number, overrides: EmergencyOverride[]) => ({
    version,
    builtAt: version,
    policies: [],
    deletedPolicyIds: [],
    regionIds: [],
    regionStatuses: [],
    overrides,
  });
  const ids = (s: ReturnType<typeof base>, tenantId: string) => s.overridesFor(tenantId).map((o) => o.overrideId);

  it("holds the ACTIVE overrides of a full build by tenant", () => {
    const s = base();
    expect(ids(s, "acme")).toEqual(["ovr_1"]);
    expect(ids(s, "globex")).toEqual(["ovr_3"]);
    expect(ids(s, "nobody")).toEqual([]);
  });

  it("applies override changes as deltas: activated ones join, ended ones leave, other tenants are shared", () => {
    const s1 = base();
    const s2 = applySnapshotChanges(s1, delta(2, [override("ovr_2", "acme"), override("ovr_1", "acme", { status: "REVOKED" })]));
    expect(ids(s2, "acme")).toEqual(["ovr_2"]);
    expect(s2.overridesFor("globex")).toBe(s1.overridesFor("globex"));
    expect(ids(s1, "acme")).toEqual(["ovr_1"]); // the previous snapshot is unchanged
    const s3 = applySnapshotChanges(s2, delta(3, [override("ovr_2", "acme", { status: "EXPIRED" }), override("ovr_3", "globex", { usageCount: 7 })]));
    expect(ids(s3, "acme")).toEqual([]);
    expect(s3.overridesFor("globex")[0]?.usageCount).toBe(7);
    const s4 = applySnapshotChanges(s3, delta(4, []));
    expect(s4.overridesFor("globex")).toBe(s3.overridesFor("globex"));
  });
});
