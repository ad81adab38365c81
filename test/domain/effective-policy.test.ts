import { describe, it, expect } from "vitest";
import { defaultRegionPolicy, mergeEffectivePolicy, mergePolicyFields } from "../../src/domain/effective-policy.js";
import { stored } from "./fake-snapshot-view.js";

const TENANT = stored({
  tenantId: "acme-edu",
  policyId: "pol-t",
  version: 4,
  primaryRegion: "eu-west",
  allowedRegions: ["eu-central", "ca-central"],
  prohibitedRegions: ["us-east", "apac-south"],
  complianceFrameworks: ["GDPR", "CCPA"],
  dataClassification: "EDUCATIONAL",
  allowCrossRegionFailover: true,
  dataRetentionDays: 730,
  emergencyContact: "dpo@acme.example",
  transferSafeguards: ["SCC"],
  inferenceProviders: ["aws-bedrock"],
});

describe("mergeEffectivePolicy", () => {
  it("a tenant policy alone is its own effective policy", () => {
    const p = mergeEffectivePolicy(TENANT, undefined);
    expect(p).toMatchObject({
      tenantId: "acme-edu",
      learnerId: "",
      primaryRegion: "eu-west",
      allowedRegions: ["eu-central", "ca-central"],
      prohibitedRegions: ["us-east", "apac-south"],
      complianceFrameworks: ["GDPR", "CCPA"],
      dataClassification: "EDUCATIONAL",
      allowCrossRegionFailover: true,
      dataRetentionDays: 730,
      emergencyContact: "dpo@acme.example",
      ageBand: undefined,
      transferSafeguards: ["SCC"],
      inferenceProviders: ["aws-bedrock"],
      sources: [{ policyId: "pol-t", version: 4, learnerId: "" }],
      policyId: "pol-t",
      policyVersion: 4,
      defaultRegionApplied: false,
      coppaAddedForAge: false,
      effectiveRetentionDays: 730,
      obligations: [],
    });
    expect(p.compliance.modules.map((m) => m.framework)).toEqual(["GDPR", "CCPA"]);
    expect([...p.allowedSet]).toEqual(["eu-central", "ca-central"]);
    expect([...p.prohibitedSet]).toEqual(["us-east", "apac-south"]);
    expect([...p.frameworkSet]).toEqual(["GDPR", "CCPA"]);
  });

  it("a learner's unset fields come from its tenant", () => {
    const learner = stored({ tenantId: "acme-edu", learnerId: "l-1", policyId: "pol-l", version: 2 });
    const p = mergeEffectivePolicy(TENANT, learner);
    expect(p).toMatchObject({
      learnerId: "l-1",
      primaryRegion: "eu-west",
      allowedRegions: ["eu-central", "ca-central"],
      dataClassification: "EDUCATIONAL",
      allowCrossRegionFailover: true,
      dataRetentionDays: 730,
      emergencyContact: "dpo@acme.example",
      transferSafeguards: ["SCC"],
      inferenceProviders: ["aws-bedrock"],
      policyId: "pol-l",
      policyVersion: 2,
    });
    expect(p.sources).toEqual([
      { policyId: "pol-t", version: 4, learnerId: "" },
      { policyId: "pol-l", version: 2, learnerId: "l-1" },
    ]);
  });

  it("a learner's set fields win; lists are replaced, not merged", () => {
    const learner = stored({
      tenantId: "acme-edu",
      learnerId: "l-1",
      primaryRegion: "eu-central",
      allowedRegions: ["eu-west"],
      dataClassification: "SENSITIVE",
      allowCrossRegionFailover: false,
      emergencyContact: "parent@example.org",
      transferSafeguards: ["DPF"],
      inferenceProviders: ["openai"],
    });
    const p = mergeEffectivePolicy(TENANT, learner);
    expect(p).toMatchObject({
      primaryRegion: "eu-central",
      allowedRegions: ["eu-west"],
      dataClassification: "SENSITIVE",
      allowCrossRegionFailover: false,
      emergencyContact: "parent@example.org",
      transferSafeguards: ["DPF"],
      inferenceProviders: ["openai"],
    });
    expect(p.allowedSet.has("eu-central")).toBe(false);
  });

  it("prohibited regions and frameworks are unions, tenant's first, without duplicates", () => {
    const learner = stored({
      tenantId: "acme-edu",
      learnerId: "l-1",
      prohibitedRegions: ["apac-east", "us-east"],
      complianceFrameworks: ["FERPA", "GDPR"],
    });
    const p = mergeEffectivePolicy(TENANT, learner);
    expect(p.prohibitedRegions).toEqual(["us-east", "apac-south", "apac-east"]);
    expect(p.complianceFrameworks).toEqual(["GDPR", "CCPA", "FERPA"]);
    expect(p.prohibitedSet.has("apac-east")).toBe(true);
    expect(p.frameworkSet.has("FERPA")).toBe(true);
  });

  it.each([
    { tenant: 730, learner: 365, expected: 365 },
    { tenant: 90, learner: 365, expected: 90 },
    { tenant: undefined, learner: 365, expected: 365 },
    { tenant: 730, learner: undefined, expected: 730 },
    { tenant: undefined, learner: undefined, expected: undefined },
  ])("retention: tenant $tenant, learner $learner → $expected", ({ tenant, learner, expected }) => {
    const p = mergeEffectivePolicy(
      stored({ ...TENANT, dataRetentionDays: tenant }),
      stored({ tenantId: "acme-edu", learnerId: "l-1", dataRetentionDays: learner }),
    );
    expect(p.dataRetentionDays).toBe(expected);
  });

  it("defaults: PERSONAL, no failover, no retention", () => {
    const p = mergeEffectivePolicy(stored({ tenantId: "t", primaryRegion: "us-east" }), undefined);
    expect(p.dataClassification).toBe("PERSONAL");
    expect(p.allowCrossRegionFailover).toBe(false);
    expect(p.dataRetentionDays).toBeUndefined();
    expect(p.complianceFrameworks).toEqual([]);
    expect(p.allowedSet.size).toBe(0);
  });

  it("an UNDER_13 learner gets COPPA, once", () => {
    const young = mergeEffectivePolicy(TENANT, stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "UNDER_13" }));
    expect(young.complianceFrameworks).toEqual(["GDPR", "CCPA", "COPPA"]);
    expect(young.coppaAddedForAge).toBe(true);
    expect(young.ageBand).toBe("UNDER_13");

    const listed = mergeEffectivePolicy(
      TENANT,
      stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "UNDER_13", complianceFrameworks: ["COPPA"] }),
    );
    expect(listed.complianceFrameworks).toEqual(["GDPR", "CCPA", "COPPA"]);
    expect(listed.coppaAddedForAge).toBe(false);

    const teen = mergeEffectivePolicy(TENANT, stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "AGE_13_TO_15" }));
    expect(teen.complianceFrameworks).toEqual(["GDPR", "CCPA"]);
  });

  it("a learner policy without a tenant policy stands alone", () => {
    const learner = stored({ tenantId: "solo", learnerId: "s-1", primaryRegion: "apac-east", version: 7 });
    const p = mergeEffectivePolicy(undefined, learner);
    expect(p).toMatchObject({
      tenantId: "solo",
      learnerId: "s-1",
      primaryRegion: "apac-east",
      policyId: "pol-solo-s-1",
      policyVersion: 7,
      sources: [{ policyId: "pol-solo-s-1", version: 7, learnerId: "s-1" }],
    });
  });

  it("does not share or mutate the stored lists", () => {
    const p = mergeEffectivePolicy(TENANT, undefined);
    expect(p.allowedRegions).not.toBe(TENANT.allowedRegions);
    expect(TENANT.prohibitedRegions).toEqual(["us-east", "apac-south"]);
  });

  it("an UNDER_13 learner's effective retention is capped by COPPA, with the obligation", () => {
    const young = mergeEffectivePolicy(TENANT, stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "UNDER_13" }));
    expect(young.dataRetentionDays).toBe(730);
    expect(young.effectiveRetentionDays).toBe(365);
    expect(young.obligations.map((o) => `${o.framework} ${o.code} ${o.effect}`)).toEqual(["COPPA COPPA_RETENTION_CAPPED OBLIGATION"]);
    const capped = mergeEffectivePolicy(TENANT, stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "UNDER_13" }), { coppaRetentionCapDays: 800 });
    expect(capped.effectiveRetentionDays).toBe(730);
    expect(capped.obligations).toEqual([]);
  });

  it("the merged fields are those write-time validation judges", () => {
    const learner = stored({ tenantId: "acme-edu", learnerId: "l-1", ageBand: "UNDER_13", allowedRegions: ["eu-central"] });
    const p = mergeEffectivePolicy(TENANT, learner);
    const fields = mergePolicyFields(TENANT, learner);
    for (const [key, value] of Object.entries(fields)) expect(p[key as keyof typeof fields], key).toEqual(value);
  });

  it("refuses to merge nothing, or policies of two tenants", () => {
    expect(() => mergeEffectivePolicy(undefined, undefined)).toThrow();
    expect(() => mergeEffectivePolicy(TENANT, stored({ tenantId: "other", learnerId: "l-1" }))).toThrow(/tenant/);
  });
});

describe("defaultRegionPolicy", () => {
  it("pins to the region, with no frameworks and no sources", () => {
    const p = defaultRegionPolicy("nobody", "k-1", "us-east");
    expect(p).toMatchObject({
      tenantId: "nobody",
      learnerId: "k-1",
      primaryRegion: "us-east",
      allowedRegions: [],
      prohibitedRegions: [],
      complianceFrameworks: [],
      dataClassification: "PERSONAL",
      allowCrossRegionFailover: false,
      sources: [],
      policyId: "",
      policyVersion: 0,
      defaultRegionApplied: true,
      effectiveRetentionDays: undefined,
      obligations: [],
    });
    expect(p.compliance.modules).toEqual([]);
    expect(p.allowedSet.size + p.prohibitedSet.size + p.frameworkSet.size).toBe(0);
  });
});
