import { describe, expect, it } from "vitest";
import { decide } from "../../../src/domain/decide.js";
import { PIPEDA } from "../../../src/domain/frameworks/pipeda.js";
import { fakeSnapshotView } from "../fake-snapshot-view.js";
import { decisionCases, NOW, policiesOf, requestOf, writeCases } from "./framework-cases.js";

// PIPEDA rows of docs/compliance-rules.md: primary ca-central; a target outside Canada only when listed in
// the allowed regions (never as the primary, by default or by failover), with the obligation
// PIPEDA_CROSS_BORDER_NOTICE; overridable.

const pipeda = { complianceFrameworks: ["PIPEDA"] as const, primaryRegion: "ca-central" };

describe("PIPEDA write-time rules", () => {
  writeCases([
    { name: "ca-central primary, any allowed region: valid", policy: { ...pipeda, allowedRegions: ["us-east", "eu-west"] }, expected: [] },
    { name: "primary elsewhere", policy: { ...pipeda, primaryRegion: "us-east" }, expected: ["policy.primary_region PIPEDA_PRIMARY_NOT_CA_CENTRAL"] },
    { name: "learner adds PIPEDA to a US tenant", tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", complianceFrameworks: ["PIPEDA"] }, expected: ["policy.primary_region PIPEDA_PRIMARY_NOT_CA_CENTRAL"] },
    { name: "FERPA with PIPEDA is possible (ca-central)", policy: { ...pipeda, complianceFrameworks: ["FERPA", "PIPEDA"], allowedRegions: ["us-east"] }, expected: [] },
    { name: "GDPR with PIPEDA is impossible", policy: { ...pipeda, complianceFrameworks: ["GDPR", "PIPEDA"] }, expected: ["policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE", "policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA"] },
  ]);
});

describe("PIPEDA decision-time rules", () => {
  const tenant = { ...pipeda, allowedRegions: ["us-east", "us-west"], allowCrossRegionFailover: true };
  decisionCases([
    { name: "inside Canada: nothing to report beyond pinning", tenant, allowed: true, target: "ca-central", reasons: ["PRIMARY_REGION:PASS"] },
    { name: "a listed region outside Canada: allowed with the notice obligation", tenant, request: { requestedRegion: "us-east" }, allowed: true, target: "us-east", reasons: ["ALLOWED_REGION", "PIPEDA_CROSS_BORDER_NOTICE:OBLIGATION"] },
    { name: "inference outside Canada carries the notice too", tenant, request: { requestedRegion: "us-west", operation: "INFERENCE" }, allowed: true, target: "us-west", provider: "aws-bedrock", reasons: ["ALLOWED_REGION", "PIPEDA_CROSS_BORDER_NOTICE:OBLIGATION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "a primary outside Canada is not listed: denied (never by default)",
      tenant: { ...pipeda, primaryRegion: "us-east", allowedRegions: ["ca-central"] }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "PIPEDA_CROSS_BORDER_NOT_LISTED:DENY"], alternatives: ["ca-central"],
    },
    { name: "PUBLIC data: no PIPEDA rule, no notice", tenant, request: { requestedRegion: "us-east", dataClassification: "PUBLIC" }, allowed: true, target: "us-east", reasons: ["ALLOWED_REGION", "PUBLIC_DATA:INFO"] },
    // Never by failover: the allowed US regions are no failover targets for ca-central.
    {
      name: "ca-central DOWN: no failover out of Canada, even to a listed region",
      tenant, view: { statuses: { "ca-central": "DOWN" } }, allowed: false, target: "ca-central",
      reasons: ["PRIMARY_REGION", "REGION_UNAVAILABLE:DENY"], alternatives: ["us-east", "us-west"],
    },
    {
      name: "a listed US region DOWN: failover skips the other US region (same legal area) for Canada",
      tenant, view: { statuses: { "us-east": "DOWN" } }, request: { requestedRegion: "us-east" }, allowed: true, target: "ca-central",
      reasons: ["ALLOWED_REGION", "PIPEDA_CROSS_BORDER_NOTICE:OBLIGATION", "REGION_FAILOVER:INFO", "PRIMARY_REGION:PASS"],
    },
    {
      name: "PUBLIC data may fail over out of Canada (transfer rules skipped)",
      tenant, view: { statuses: { "ca-central": "DOWN" } }, request: { dataClassification: "PUBLIC" }, allowed: true, target: "us-east",
      reasons: ["PRIMARY_REGION", "PUBLIC_DATA:INFO", "REGION_FAILOVER:INFO", "ALLOWED_REGION:PASS"],
    },
  ]);

  it("is soft, and the deny says the region is not listed", () => {
    expect(PIPEDA.breakGlass).toBe(true);
    const view = fakeSnapshotView(policiesOf({ tenant: { ...pipeda, primaryRegion: "us-east" } }));
    const deny = decide(view, requestOf({}), NOW).reasons.at(-1)!;
    expect(deny).toMatchObject({ framework: "PIPEDA", overridable: true, region: "us-east" });
    expect(deny.message).toContain("not listed in the policy's allowed regions");
  });
});
