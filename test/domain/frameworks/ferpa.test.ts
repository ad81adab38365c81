import { describe, expect, it } from "vitest";
import { FERPA } from "../../../src/domain/frameworks/ferpa.js";
import { decisionCases, validate, writeCases } from "./framework-cases.js";

// FERPA rows of docs/compliance-rules.md: primary and allowed regions in the US or Canada; a target
// outside them is denied (soft: the health-or-safety exception); inference only from a zero-retention
// provider. GDPR with FERPA is impossible.

const ferpa = { complianceFrameworks: ["FERPA"] as const, primaryRegion: "us-east" };

describe("FERPA write-time rules", () => {
  writeCases([
    { name: "US primary, US and Canadian allowed regions: valid", policy: { ...ferpa, allowedRegions: ["us-west", "ca-central"] }, expected: [] },
    { name: "Canadian primary: valid", policy: { ...ferpa, primaryRegion: "ca-central" }, expected: [] },
    { name: "primary outside the US and Canada", policy: { ...ferpa, primaryRegion: "apac-east" }, expected: ["policy.primary_region FERPA_PRIMARY_OUTSIDE_US_CA"] },
    { name: "allowed regions outside the US and Canada", policy: { ...ferpa, allowedRegions: ["eu-west", "us-west", "apac-south"] }, expected: ["policy.allowed_regions[0] FERPA_ALLOWED_REGION_OUTSIDE_US_CA", "policy.allowed_regions[2] FERPA_ALLOWED_REGION_OUTSIDE_US_CA"] },
    { name: "a safeguard is no exception", policy: { ...ferpa, allowedRegions: ["eu-west"], transferSafeguards: ["SCC"] }, expected: ["policy.allowed_regions[0] FERPA_ALLOWED_REGION_OUTSIDE_US_CA"] },
    { name: "learner adds FERPA; inherits an allowed region outside US/CA", tenant: { primaryRegion: "us-east", allowedRegions: ["apac-east"] }, policy: { learnerId: "l-1", complianceFrameworks: ["FERPA"] }, expected: ["policy.allowed_regions FERPA_ALLOWED_REGION_OUTSIDE_US_CA"] },
    { name: "learner inherits FERPA; its own primary is in the EEA", tenant: ferpa, policy: { learnerId: "l-1", primaryRegion: "eu-central" }, expected: ["policy.primary_region FERPA_PRIMARY_OUTSIDE_US_CA"] },
    // GDPR with FERPA: one FRAMEWORKS_INCOMPATIBLE on compliance_frameworks, then every rule that is broken.
    {
      name: "GDPR with FERPA, EEA primary: incompatible, and FERPA's primary rule is broken",
      policy: { complianceFrameworks: ["GDPR", "FERPA"], primaryRegion: "eu-west" },
      expected: ["policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE", "policy.primary_region FERPA_PRIMARY_OUTSIDE_US_CA"],
    },
    {
      name: "GDPR with FERPA, US primary: incompatible, and GDPR's primary rule is broken",
      policy: { complianceFrameworks: ["FERPA", "GDPR"], primaryRegion: "us-east", allowedRegions: ["ca-central"] },
      expected: ["policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE", "policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA"],
    },
    {
      name: "GDPR with FERPA elsewhere: both primary rules and every allowed-region rule are listed",
      policy: { complianceFrameworks: ["GDPR", "FERPA"], primaryRegion: "apac-south", allowedRegions: ["us-west", "eu-west"] },
      expected: [
        "policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE",
        "policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA",
        "policy.allowed_regions[0] GDPR_ALLOWED_REGION_NO_BASIS",
        "policy.primary_region FERPA_PRIMARY_OUTSIDE_US_CA",
        "policy.allowed_regions[1] FERPA_ALLOWED_REGION_OUTSIDE_US_CA",
      ],
    },
    {
      name: "GDPR from the tenant, FERPA from the learner",
      tenant: { complianceFrameworks: ["GDPR"], primaryRegion: "eu-west" },
      policy: { learnerId: "l-1", complianceFrameworks: ["FERPA"] },
      expected: ["policy.compliance_frameworks FRAMEWORKS_INCOMPATIBLE", "policy.primary_region FERPA_PRIMARY_OUTSIDE_US_CA"],
    },
  ]);

  it("the conflict is reported once, names both frameworks, and the primary-region violation points at it", () => {
    const [conflict, primary] = validate({ policy: { complianceFrameworks: ["GDPR", "FERPA"], primaryRegion: "eu-west" } });
    expect(conflict!.message).toBe(
      "policy.compliance_frameworks combines GDPR and FERPA, whose rules cannot both hold: GDPR needs the primary region in the EEA and FERPA in the US or Canada, and no region is both; remove one of them",
    );
    expect(primary!.message).toBe(
      'policy.primary_region "eu-west" is outside the US and Canada (IE): FERPA requires the primary region in the US or Canada (GDPR and FERPA are incompatible, see policy.compliance_frameworks)',
    );
    const [inherited] = validate({
      tenant: { complianceFrameworks: ["GDPR"], primaryRegion: "eu-west" },
      policy: { learnerId: "l-1", complianceFrameworks: ["FERPA"] },
    });
    expect(inherited!.message).toContain("GDPR and FERPA (GDPR from tenant policy pol-t)");
  });
});

describe("FERPA decision-time rules", () => {
  const tenant = { ...ferpa, allowedRegions: ["us-west", "ca-central", "eu-west"] };
  decisionCases([
    { name: "US primary", tenant, allowed: true, target: "us-east", reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA:PASS"] },
    { name: "Canada", tenant, request: { requestedRegion: "ca-central" }, allowed: true, target: "ca-central", reasons: ["ALLOWED_REGION", "FERPA_WITHIN_US_CA:PASS"] },
    {
      name: "outside the US and Canada: denied (soft)",
      tenant, request: { requestedRegion: "eu-west" }, allowed: false, target: "eu-west",
      reasons: ["ALLOWED_REGION", "FERPA_OUTSIDE_US_CA:DENY"], alternatives: ["us-east", "us-west", "ca-central"],
    },
    { name: "PUBLIC data skips it", tenant, request: { requestedRegion: "eu-west", dataClassification: "PUBLIC" }, allowed: true, target: "eu-west", reasons: ["ALLOWED_REGION", "PUBLIC_DATA:INFO"] },
    { name: "inference: a zero-retention provider, first in catalog order", tenant, request: { operation: "INFERENCE" }, allowed: true, target: "us-east", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "inference: anthropic keeps data, so FERPA rejects it",
      tenant: { ...tenant, inferenceProviders: ["anthropic"] }, request: { operation: "INFERENCE" }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA", "FERPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: [],
    },
    { name: "inference: the allowlist picks the first permitted it names", tenant: { ...tenant, inferenceProviders: ["anthropic", "openai"] }, request: { operation: "INFERENCE", requestedRegion: "us-west" }, allowed: true, target: "us-west", provider: "openai", reasons: ["ALLOWED_REGION", "FERPA_WITHIN_US_CA", "INFERENCE_PROVIDER_SELECTED:PASS"] },
  ]);

  it("is soft: the health-or-safety exception", () => {
    expect(FERPA.breakGlass).toBe(true);
  });
});
