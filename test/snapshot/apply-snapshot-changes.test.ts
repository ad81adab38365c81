import { describe, expect, it } from "vitest";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import type { StoredPolicy } from "../../src/domain/policy.js";
import { applySnapshotChanges } from "../../src/snapshot/apply-snapshot-changes.js";
import { buildSnapshot, type Snapshot } from "../../src/snapshot/snapshot.js";
import type { RegionStatusRecord } from "../../src/store/policy-store.js";
import { fields } from "../store/contract-fixtures.js";

const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ca-central"];

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const full = (version: number, policies: Iterable<StoredPolicy>, statuses: Iterable<RegionStatusRecord>) =>
  buildSnapshot({
    version,
    regions: DEFAULT_REGIONS,
    policies: [...policies],
    regionStatuses: [...statuses],
    defaultRegion: undefined,
    compliance: { coppaRetentionCapDays: 200 },
    builtAt: version,
  });

function expectSame(actual: Snapshot, expected: Snapshot, keys: Iterable<[string, string]>): void {
  expect(actual.version).toBe(expected.version);
  expect(actual.policyCount).toBe(expected.policyCount);
  expect(actual.tenantIds).toEqual(expected.tenantIds);
  expect(actual.regions).toEqual(expected.regions);
  for (const [tenantId, learnerId] of keys) {
    expect(actual.effectivePolicy(tenantId, learnerId), `${tenantId}/${learnerId}`).toEqual(expected.effectivePolicy(tenantId, learnerId));
  }
}

describe("applySnapshotChanges", () => {
  it("gives the same snapshot as a full build after any sequence of creates, updates, deletes and region changes", () => {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const live = new Map<string, StoredPolicy>(); // by tenant/learner
    const statuses = new Map<string, RegionStatusRecord>();
    const everKey = new Set<string>();
    let ids = 0;
    let version = 0;
    let snapshot = full(0, [], []);

    for (let step = 0; step < 250; step++) {
      const policies: StoredPolicy[] = [];
      const deleted: string[] = [];
      const regionIds: string[] = [];
      // Several changes per delta, as a catch-up after a gap applies them.
      const count = 1 + Math.floor(next() * 4);
      for (let c = 0; c < count; c++) {
        const roll = next();
        if (roll < 0.08) {
          const regionId = pick(REGIONS);
          regionIds.push(regionId);
          if (next() < 0.3) statuses.delete(regionId);
          else statuses.set(regionId, { regionId, status: pick(["DOWN", "DEGRADED", "HEALTHY"] as const), reason: `r${step}`, updatedAt: step, updatedBy: "op" });
          continue;
        }
        const tenantId = `t${Math.floor(next() * 12)}`;
        const learnerId = next() < 0.3 ? "" : `l${Math.floor(next() * 6)}`;
        const key = `${tenantId}/${learnerId}`;
        everKey.add(key);
        const existing = live.get(key);
        if (existing !== undefined && roll < 0.3) {
          live.delete(key);
          deleted.push(existing.policyId);
          continue;
        }
        const over = {
          primaryRegion: learnerId === "" || next() < 0.3 ? pick(REGIONS) : "",
          allowedRegions: next() < 0.5 ? [pick(REGIONS)] : [],
          prohibitedRegions: next() < 0.3 ? ["apac-south"] : [],
          complianceFrameworks: next() < 0.3 ? (["COPPA"] as const) : [],
          dataRetentionDays: next() < 0.5 ? 100 + Math.floor(next() * 400) : undefined,
          ageBand: learnerId !== "" && next() < 0.3 ? ("UNDER_13" as const) : undefined,
        };
        const policy: StoredPolicy = {
          ...fields(tenantId, learnerId, { ...over, complianceFrameworks: [...over.complianceFrameworks] }),
          policyId: existing?.policyId ?? `p${++ids}`,
          version: (existing?.version ?? 0) + 1,
          createdAt: 0,
          updatedAt: step,
          createdBy: "a",
          updatedBy: "a",
        };
        live.set(key, policy);
        // A policy changed twice in one delta appears once, in its latest state, as the store reports it.
        const at = policies.findIndex((p) => p.policyId === policy.policyId);
        if (at >= 0) policies.splice(at, 1);
        policies.push(policy);
      }
      version++;
      const livePolicies = new Set([...live.values()].map((p) => p.policyId));
      snapshot = applySnapshotChanges(snapshot, {
        version,
        builtAt: version,
        policies: policies.filter((p) => livePolicies.has(p.policyId)),
        deletedPolicyIds: [...new Set([...deleted, ...policies.map((p) => p.policyId)])].filter((id) => !livePolicies.has(id)),
        regionIds,
        regionStatuses: regionIds.flatMap((id) => (statuses.has(id) ? [statuses.get(id)!] : [])),
      });
      const keys = [...everKey].map((k) => k.split("/") as [string, string]);
      keys.push(["t0", "nobody"], ["unknown", ""]);
      expectSame(snapshot, full(version, live.values(), statuses.values()), keys);
    }
  });

  it("leaves the previous snapshot unchanged and shares the untouched tenants' merged policies", () => {
    const policy = (id: string, tenantId: string, learnerId = "", version = 1): StoredPolicy => ({
      ...fields(tenantId, learnerId, learnerId === "" ? { primaryRegion: "us-east" } : {}),
      policyId: id,
      version,
      createdAt: 0,
      updatedAt: 0,
      createdBy: "a",
      updatedBy: "a",
    });
    const before = full(1, [policy("a", "acme"), policy("a1", "acme", "l1"), policy("b", "beta"), policy("b1", "beta", "l1")], []);
    const after = applySnapshotChanges(before, {
      version: 2,
      builtAt: 2,
      policies: [{ ...policy("a", "acme", "", 2), primaryRegion: "us-west" }],
      deletedPolicyIds: ["b1"],
      regionIds: [],
      regionStatuses: [],
    });
    expect(before.version).toBe(1);
    expect(before.effectivePolicy("acme", "l1")?.primaryRegion).toBe("us-east");
    expect(before.effectivePolicy("beta", "l1")?.learnerId).toBe("l1");
    expect(after.effectivePolicy("acme", "l1")?.primaryRegion).toBe("us-west");
    expect(after.effectivePolicy("beta", "l1")?.learnerId).toBe(""); // falls back to the tenant's
    expect(after.policyCount).toBe(3);
    const third = applySnapshotChanges(after, { version: 3, builtAt: 3, policies: [policy("c", "gamma")], deletedPolicyIds: [], regionIds: [], regionStatuses: [] });
    expect(third.effectivePolicy("acme", "l1")).toBe(after.effectivePolicy("acme", "l1"));
    expect(third.effectivePolicy("beta", "")).toBe(before.effectivePolicy("beta", ""));
  });
});
