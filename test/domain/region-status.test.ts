import { describe, expect, it } from "vitest";
import { decide } from "../../src/domain/decide.js";
import { fakeSnapshotView } from "./fake-snapshot-view.js";
import { decisionCases, NOW, policiesOf, requestOf } from "./frameworks/framework-cases.js";

// Step 7 of docs/compliance-rules.md: DEGRADED is still targeted; DOWN fails over, when the policy allows
// it, to the next region that passes steps 4–6 (and, for INFERENCE, has a compliant provider), same legal
// area first, then catalog order; else REGION_UNAVAILABLE (not overridable). A requested region that is
// DOWN fails over exactly like the primary (see region-status.ts).

const gdpr = {
  complianceFrameworks: ["GDPR"] as const,
  primaryRegion: "eu-west",
  allowedRegions: ["eu-central", "ca-central", "apac-east"],
  allowCrossRegionFailover: true,
};

describe("region status and failover", () => {
  decisionCases([
    { name: "HEALTHY: nothing to report", tenant: gdpr, allowed: true, target: "eu-west", reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA"] },
    {
      name: "DEGRADED: reported, still targeted",
      tenant: gdpr, view: { statuses: { "eu-west": ["DEGRADED", "elevated S3 latency"] } }, allowed: true, target: "eu-west",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_DEGRADED:INFO"],
    },
    {
      name: "DOWN, failover inside the legal area",
      tenant: gdpr, view: { statuses: { "eu-west": "DOWN" } }, allowed: true, target: "eu-central",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_WITHIN_EEA:PASS"],
    },
    {
      name: "DOWN, the partner DOWN too: failover outside the legal area, catalog order (apac-east before ca-central)",
      tenant: gdpr, view: { statuses: { "eu-west": "DOWN", "eu-central": "DOWN" } }, allowed: true, target: "apac-east",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_ADEQUACY:PASS"],
    },
    {
      name: "DOWN, the partner not allowed: failover outside the legal area",
      tenant: { ...gdpr, allowedRegions: ["ca-central"] }, view: { statuses: { "eu-west": "DOWN" } }, allowed: true, target: "ca-central",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_ADEQUACY:PASS"],
    },
    {
      name: "DOWN, a failover target that is DEGRADED says so",
      tenant: gdpr, view: { statuses: { "eu-west": "DOWN", "eu-central": "DEGRADED" } }, allowed: true, target: "eu-central",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_WITHIN_EEA:PASS", "REGION_DEGRADED:INFO"],
    },
    {
      name: "DOWN, failover skips a region the frameworks deny (us-east: no GDPR basis)",
      tenant: { ...gdpr, allowedRegions: ["us-east", "ca-central"] }, view: { statuses: { "eu-west": "DOWN" } }, allowed: true, target: "ca-central",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_ADEQUACY:PASS"],
    },
    {
      name: "DOWN, failover skips prohibited regions",
      tenant: { ...gdpr, allowedRegions: ["eu-central", "apac-east"] }, learner: { prohibitedRegions: ["eu-central"] },
      view: { statuses: { "eu-west": "DOWN" } }, allowed: true, target: "apac-east",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_ADEQUACY:PASS"],
    },
    {
      name: "DOWN, INFERENCE: failover skips a region without a compliant provider (allowlist: openai, none in eu-central)",
      tenant: { ...gdpr, inferenceProviders: ["openai"] }, view: { statuses: { "eu-west": "DOWN" } }, request: { operation: "INFERENCE" },
      allowed: true, target: "apac-east", provider: "openai",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "GDPR_TRANSFER_ADEQUACY:PASS", "INFERENCE_PROVIDER_SELECTED:PASS"],
    },
    {
      name: "DOWN, failover not allowed: REGION_UNAVAILABLE, alternatives are regions that are up",
      tenant: { ...gdpr, allowCrossRegionFailover: false }, view: { statuses: { "eu-west": "DOWN", "apac-east": "DOWN" } }, allowed: false, target: "eu-west",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_UNAVAILABLE:DENY"], alternatives: ["eu-central", "ca-central"],
    },
    {
      name: "DOWN, failover allowed but no region qualifies",
      tenant: { ...gdpr, allowedRegions: ["eu-central"] }, view: { statuses: { "eu-west": "DOWN", "eu-central": "DOWN" } }, allowed: false, target: "eu-west",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_UNAVAILABLE:DENY"], alternatives: [],
    },
    {
      name: "failover is off by default",
      tenant: { ...gdpr, allowCrossRegionFailover: undefined }, view: { statuses: { "eu-west": "DOWN" } }, allowed: false, target: "eu-west",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_UNAVAILABLE:DENY"], alternatives: ["eu-central", "apac-east", "ca-central"],
    },
    {
      name: "a learner's own setting wins: no failover",
      tenant: gdpr, learner: { allowCrossRegionFailover: false }, view: { statuses: { "eu-west": "DOWN" } }, allowed: false, target: "eu-west",
      reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_UNAVAILABLE:DENY"], alternatives: ["eu-central", "apac-east", "ca-central"],
    },
    // The choice for a requested region: it fails over exactly when the policy allows failover.
    {
      name: "a requested region that is DOWN fails over when failover is allowed (here back to the primary)",
      tenant: gdpr, view: { statuses: { "eu-central": "DOWN" } }, request: { requestedRegion: "eu-central" }, allowed: true, target: "eu-west",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_WITHIN_EEA", "REGION_FAILOVER:INFO", "PRIMARY_REGION:PASS", "GDPR_TRANSFER_WITHIN_EEA:PASS"],
    },
    {
      name: "a requested region that is DOWN is unavailable when failover is not allowed",
      tenant: { ...gdpr, allowCrossRegionFailover: false }, view: { statuses: { "apac-east": "DOWN" } }, request: { requestedRegion: "apac-east" }, allowed: false, target: "apac-east",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_ADEQUACY", "REGION_UNAVAILABLE:DENY"], alternatives: ["eu-west", "eu-central", "ca-central"],
    },
    {
      name: "the rules before step 7 decide first: a prohibited region that is DOWN is prohibited",
      tenant: { ...gdpr, prohibitedRegions: ["us-east"] }, view: { statuses: { "us-east": "DOWN" } }, request: { requestedRegion: "us-east" }, allowed: false, target: "us-east",
      reasons: ["REGION_PROHIBITED:DENY"], alternatives: ["eu-west", "eu-central", "apac-east", "ca-central"],
    },
    {
      name: "FERPA: failover stays in the US first",
      tenant: { complianceFrameworks: ["FERPA"], primaryRegion: "us-east", allowedRegions: ["ca-central", "us-west"], allowCrossRegionFailover: true },
      view: { statuses: { "us-east": "DOWN" } }, allowed: true, target: "us-west",
      reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS", "FERPA_WITHIN_US_CA:PASS"],
    },
    {
      name: "no policy frameworks: an unpinned tenant on the default region never fails over",
      view: { defaultRegion: "us-east", statuses: { "us-east": "DOWN" } }, allowed: false, target: "us-east",
      reasons: ["DEFAULT_REGION:INFO", "PRIMARY_REGION", "REGION_UNAVAILABLE:DENY"], alternatives: [],
    },
  ]);

  it("the failover decision is cross-region, routes to the new region and names both regions", () => {
    const view = fakeSnapshotView(policiesOf({ tenant: gdpr }), { statuses: { "eu-west": ["DOWN", "power"] } });
    const d = decide(view, requestOf({}), NOW);
    expect(d).toMatchObject({ allowed: true, targetRegion: "eu-central", primaryRegion: "eu-west", crossRegion: true });
    expect(d.routing?.storageBucket).toBe("residency-eu-central");
    const failover = d.reasons.find((r) => r.code === "REGION_FAILOVER")!;
    expect(failover).toMatchObject({ effect: "INFO", overridable: false, region: "eu-central" });
    expect(failover.message).toBe('region "eu-west" is DOWN (power): failed over from "eu-west" to "eu-central" (same legal area EEA)');
  });

  it("REGION_UNAVAILABLE is not overridable and says why", () => {
    const off = decide(fakeSnapshotView(policiesOf({ tenant: { ...gdpr, allowCrossRegionFailover: false } }), { statuses: { "eu-west": "DOWN" } }), requestOf({}), NOW);
    const reason = off.reasons.at(-1)!;
    expect(reason).toMatchObject({ code: "REGION_UNAVAILABLE", effect: "DENY", overridable: false, framework: undefined, region: "eu-west" });
    expect(reason.message).toContain("does not allow cross-region failover");
  });

  it("a status change is seen at once although region plans are memoised per policy", () => {
    const policies = policiesOf({ tenant: gdpr });
    const healthy = fakeSnapshotView(policies);
    expect(decide(healthy, requestOf({}), NOW).targetRegion).toBe("eu-west");
    const down = fakeSnapshotView(policies, { statuses: { "eu-west": "DOWN" } });
    expect(decide(down, requestOf({}), NOW).targetRegion).toBe("eu-central");
  });
});
