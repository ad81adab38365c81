import { describe, expect, it } from "vitest";
import type { StoredPolicy } from "../../src/domain/policy.js";
import type { PolicyStore } from "../../src/store/policy-store.js";
import { FULL, byKey, fields, key, meta, type PolicyStoreFixture } from "./contract-fixtures.js";

/** Listing and snapshots: part of the shared suite (called inside its describe). */
export function listingContract(current: () => PolicyStoreFixture): void {
  const store = (): PolicyStore => current().store;

  describe("listing and snapshots", () => {
    const tenants = ["t1", "t2", "t3"];
    const learners = ["", "l1", "l2", "l3", "l4"];
    async function seed(): Promise<StoredPolicy[]> {
      let n = 0;
      // Created out of order, so the store must sort.
      for (const l of [...learners].reverse()) {
        for (const t of [...tenants].reverse()) await store().createPolicy(fields(t, l), meta(n++));
      }
      return (await store().loadSnapshotData()).policies.slice().sort(byKey);
    }

    it("pages by (tenant, learner) without duplicates or gaps", async () => {
      const all = await seed();
      const seen: StoredPolicy[] = [];
      let after: { tenantId: string; learnerId: string } | undefined;
      for (;;) {
        const page = await store().listPolicies({ tenantId: "", limit: 4, after });
        seen.push(...page);
        if (page.length < 4) break;
        const last = page[page.length - 1]!;
        after = { tenantId: last.tenantId, learnerId: last.learnerId };
      }
      expect(seen.map(key)).toEqual(tenants.flatMap((t) => learners.map((l) => `${t}/${l}`)));
      expect(seen).toEqual(all);
    });

    it("filters by tenant, tenant policy first, cursor exclusive", async () => {
      await seed();
      const t2 = await store().listPolicies({ tenantId: "t2", limit: 100, after: undefined });
      expect(t2.map(key)).toEqual(learners.map((l) => `t2/${l}`));
      const rest = await store().listPolicies({ tenantId: "t2", limit: 2, after: { tenantId: "t2", learnerId: "l1" } });
      expect(rest.map(key)).toEqual(["t2/l2", "t2/l3"]);
      expect(await store().listPolicies({ tenantId: "nobody", limit: 10, after: undefined })).toEqual([]);
    });

    it("restricts a listing to a tenant allowlist, paging within it", async () => {
      await seed();
      const page1 = await store().listPolicies({ tenantId: "", tenantIn: ["t3", "t1", "nobody"], limit: 6, after: undefined });
      expect(page1.map(key)).toEqual([...learners.map((l) => `t1/${l}`), "t3/"]);
      const last = page1.at(-1)!;
      const page2 = await store().listPolicies({ tenantId: "", tenantIn: ["t3", "t1"], limit: 100, after: { tenantId: last.tenantId, learnerId: last.learnerId } });
      expect(page2.map(key)).toEqual(learners.slice(1).map((l) => `t3/${l}`));
      expect(await store().listPolicies({ tenantId: "t2", tenantIn: ["t1"], limit: 10, after: undefined })).toEqual([]);
      expect((await store().listPolicies({ tenantId: "t1", tenantIn: ["t1"], limit: 10, after: undefined })).map(key)).toEqual(learners.map((l) => `t1/${l}`));
      expect(await store().listPolicies({ tenantId: "", tenantIn: [], limit: 10, after: undefined })).toEqual([]);
    });

    it("snapshots every current policy with the change version of the last write", async () => {
      const all = await seed();
      const { value } = await store().updatePolicy(all[0]!.policyId, fields("t1", "", FULL), 1, meta(99));
      const last = await store().deletePolicy(all[1]!.policyId, 1, meta(100));
      const snap = await store().loadSnapshotData();
      expect(snap.changeVersion).toBe(last.changeVersion);
      const expected = [value, ...all.slice(2)];
      expect(snap.policies.slice().sort(byKey)).toEqual(expected);
    });
  });
}
