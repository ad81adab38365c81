import { describe, expect, it } from "vitest";
import { decide } from "../../../src/domain/decide.js";
import { FRAMEWORK_MODULES, overrideReasons } from "../../../src/domain/frameworks/framework-registry.js";
import { GDPR, gdprBasis } from "../../../src/domain/frameworks/gdpr.js";
import { DEFAULT_REGIONS } from "../../../src/domain/default-region-catalog.js";
import { fakeSnapshotView } from "../fake-snapshot-view.js";
import { decisionCases, NOW, policiesOf, requestOf, validate, writeCases } from "./framework-cases.js";

// GDPR rows of docs/compliance-rules.md: EEA primary; a transfer basis (adequacy, DPF for us-*, SCC for
// any) for every region outside the EEA; inference only in the EEA or an adequate country; Art. 49.

const gdpr = { complianceFrameworks: ["GDPR"] as const, primaryRegion: "eu-west" };

describe("GDPR write-time rules", () => {
  writeCases([
    { name: "EEA primary, EEA and adequate allowed regions: valid", policy: { ...gdpr, allowedRegions: ["eu-central", "apac-east", "ca-central"] }, expected: [] },
    { name: "primary outside the EEA", policy: { ...gdpr, primaryRegion: "us-east" }, expected: ["policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA"] },
    { name: "primary at an adequate region is still outside the EEA", policy: { ...gdpr, primaryRegion: "apac-east" }, expected: ["policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA"] },
    { name: "us-east allowed without a safeguard", policy: { ...gdpr, allowedRegions: ["eu-central", "us-east"] }, expected: ["policy.allowed_regions[1] GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "DPF covers us-east and us-west", policy: { ...gdpr, allowedRegions: ["us-east", "us-west"], transferSafeguards: ["DPF"] }, expected: [] },
    { name: "DPF does not cover apac-south", policy: { ...gdpr, allowedRegions: ["us-west", "apac-south"], transferSafeguards: ["DPF"] }, expected: ["policy.allowed_regions[1] GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "SCC covers any region", policy: { ...gdpr, allowedRegions: ["us-east", "apac-south"], transferSafeguards: ["SCC"] }, expected: [] },
    { name: "every region without a basis is reported", policy: { ...gdpr, allowedRegions: ["us-east", "apac-east", "apac-south"] }, expected: ["policy.allowed_regions[0] GDPR_ALLOWED_REGION_NO_BASIS", "policy.allowed_regions[2] GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "PUBLIC classification keeps the write-time rules", policy: { ...gdpr, dataClassification: "PUBLIC", allowedRegions: ["us-east"] }, expected: ["policy.allowed_regions[0] GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "a repeated region is reported once by GDPR", policy: { ...gdpr, allowedRegions: ["us-east", "us-east"] }, expected: ["policy.allowed_regions[1] no_duplicates", "policy.allowed_regions[0] GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "no GDPR, no GDPR rules", policy: { primaryRegion: "us-east", allowedRegions: ["apac-south"] }, expected: [] },
    { name: "an unknown region is reported once (region_exists), not by GDPR", policy: { ...gdpr, allowedRegions: ["mars-1"] }, expected: ["policy.allowed_regions[0] region_exists"] },
    // The effective policy: a learner is judged together with its tenant.
    { name: "learner adds GDPR to a tenant whose primary is in the US", tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", complianceFrameworks: ["GDPR"] }, expected: ["policy.primary_region GDPR_PRIMARY_OUTSIDE_EEA"] },
    { name: "learner adds GDPR and inherits allowed regions without a basis", tenant: { primaryRegion: "eu-west", allowedRegions: ["us-west"] }, policy: { learnerId: "l-1", complianceFrameworks: ["GDPR"] }, expected: ["policy.allowed_regions GDPR_ALLOWED_REGION_NO_BASIS"] },
    { name: "learner inherits GDPR and the tenant's DPF safeguard", tenant: { ...gdpr, transferSafeguards: ["DPF"] }, policy: { learnerId: "l-1", allowedRegions: ["us-east"] }, expected: [] },
    { name: "learner inherits GDPR; its own allowed region has no basis", tenant: gdpr, policy: { learnerId: "l-1", allowedRegions: ["eu-central", "us-east"] }, expected: ["policy.allowed_regions[1] GDPR_ALLOWED_REGION_NO_BASIS"] },
  ]);

  it("messages name the field, the framework and the rule, and say when a value is inherited", () => {
    const [primary] = validate({ policy: { ...gdpr, primaryRegion: "us-east" } });
    expect(primary!.message).toBe('policy.primary_region "us-east" is outside the EEA (US): GDPR requires the primary region in the EEA');
    const [allowed] = validate({ policy: { ...gdpr, allowedRegions: ["us-east"] } });
    expect(allowed!.message).toContain("GDPR");
    expect(allowed!.message).toContain("DPF or SCC");
    const [inherited] = validate({ tenant: { primaryRegion: "eu-west", allowedRegions: ["apac-south"] }, policy: { learnerId: "l-1", complianceFrameworks: ["GDPR"] } });
    expect(inherited!.message).toContain('"apac-south" (inherited from tenant policy pol-t)');
    expect(inherited!.message).not.toContain("DPF");
  });
});

describe("GDPR decision-time rules", () => {
  const tenant = { ...gdpr, allowedRegions: ["eu-central", "apac-east", "ca-central", "us-east", "apac-south"] };
  decisionCases([
    { name: "primary in the EEA", tenant, allowed: true, target: "eu-west", reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA:PASS"] },
    { name: "another EEA region", tenant, request: { requestedRegion: "eu-central" }, allowed: true, target: "eu-central", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_WITHIN_EEA:PASS"] },
    { name: "adequacy: apac-east", tenant, request: { requestedRegion: "apac-east" }, allowed: true, target: "apac-east", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_ADEQUACY:PASS"] },
    { name: "adequacy: ca-central", tenant, request: { requestedRegion: "ca-central" }, allowed: true, target: "ca-central", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_ADEQUACY:PASS"] },
    {
      name: "us-east without a safeguard: no basis (soft), alternatives by the same rules",
      tenant, request: { requestedRegion: "us-east" }, allowed: false, target: "us-east",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_NO_BASIS:DENY"], alternatives: ["eu-west", "eu-central", "apac-east", "ca-central"],
    },
    { name: "DPF covers us-east", tenant: { ...tenant, transferSafeguards: ["DPF"] }, request: { requestedRegion: "us-east" }, allowed: true, target: "us-east", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_SAFEGUARD:PASS"] },
    {
      name: "DPF does not cover apac-south",
      tenant: { ...tenant, transferSafeguards: ["DPF"] }, request: { requestedRegion: "apac-south" }, allowed: false, target: "apac-south",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_NO_BASIS:DENY"], alternatives: ["us-east", "eu-west", "eu-central", "apac-east", "ca-central"],
    },
    { name: "SCC covers apac-south", tenant: { ...tenant, transferSafeguards: ["SCC"] }, request: { requestedRegion: "apac-south" }, allowed: true, target: "apac-south", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_SAFEGUARD:PASS"] },
    { name: "pinning denies first: GDPR does not run", tenant, request: { requestedRegion: "us-west" }, allowed: false, target: "us-west", reasons: ["REGION_NOT_ALLOWED:DENY"] },
    { name: "PUBLIC data (request) skips the transfer rule", tenant, request: { requestedRegion: "us-east", dataClassification: "PUBLIC" }, allowed: true, target: "us-east", reasons: ["ALLOWED_REGION", "PUBLIC_DATA:INFO"] },
    { name: "PUBLIC data (the policy's classification) skips the transfer rule", tenant: { ...tenant, dataClassification: "PUBLIC" }, request: { requestedRegion: "apac-south" }, allowed: true, target: "apac-south", reasons: ["ALLOWED_REGION", "PUBLIC_DATA:INFO"] },
    { name: "a request's classification wins over the policy's PUBLIC", tenant: { ...tenant, dataClassification: "PUBLIC" }, request: { requestedRegion: "apac-south", dataClassification: "PERSONAL" }, allowed: false, target: "apac-south", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_NO_BASIS:DENY"] },
    { name: "PUBLIC data does not lift prohibited regions", tenant: { ...tenant, prohibitedRegions: ["us-west"] }, request: { requestedRegion: "us-west", dataClassification: "PUBLIC" }, allowed: false, target: "us-west", reasons: ["REGION_PROHIBITED:DENY"] },
    { name: "inference in the EEA", tenant, request: { operation: "INFERENCE" }, allowed: true, target: "eu-west", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    { name: "inference in an adequate country", tenant, request: { operation: "INFERENCE", requestedRegion: "ca-central" }, allowed: true, target: "ca-central", provider: "aws-bedrock", reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_ADEQUACY", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "inference in the US, even with DPF: no endpoint in the EEA or an adequate country",
      tenant: { ...tenant, transferSafeguards: ["DPF"] }, request: { operation: "INFERENCE", requestedRegion: "us-east" }, allowed: false, target: "us-east",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_SAFEGUARD:PASS", "GDPR_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"],
      alternatives: ["eu-west", "eu-central", "apac-east", "ca-central"],
    },
    { name: "inference with the allowlist: openai in eu-west", tenant: { ...tenant, inferenceProviders: ["openai"] }, request: { operation: "INFERENCE" }, allowed: true, target: "eu-west", provider: "openai", reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "inference with the allowlist: no openai in eu-central",
      tenant: { ...tenant, inferenceProviders: ["openai"] }, request: { operation: "INFERENCE", requestedRegion: "eu-central" }, allowed: false, target: "eu-central",
      reasons: ["ALLOWED_REGION", "GDPR_TRANSFER_WITHIN_EEA", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: ["eu-west", "apac-east", "ca-central"],
    },
  ]);

  it("the deny names the region, the framework and what is missing", () => {
    const view = fakeSnapshotView(policiesOf({ tenant }));
    const [, deny] = decide(view, requestOf({ request: { requestedRegion: "us-east" } }), NOW).reasons;
    expect(deny).toEqual({
      code: "GDPR_TRANSFER_NO_BASIS",
      message: 'GDPR: region "us-east" (US) is outside the EEA with no adequacy decision and no listed safeguard (DPF or SCC): transfer denied',
      framework: "GDPR",
      effect: "DENY",
      overridable: true,
      region: "us-east",
    });
  });

  it("the provider deny is overridable, and so is the no-compliant-provider deny it causes", () => {
    const view = fakeSnapshotView(policiesOf({ tenant: { ...tenant, transferSafeguards: ["DPF"] } }));
    const d = decide(view, requestOf({ request: { operation: "INFERENCE", requestedRegion: "us-east" } }), NOW);
    const [gdprDeny, none] = d.reasons.slice(-2);
    expect(gdprDeny).toMatchObject({ framework: "GDPR", overridable: true });
    expect(gdprDeny!.message).toContain("aws-bedrock, openai, anthropic");
    expect(none).toMatchObject({ code: "INFERENCE_NO_COMPLIANT_PROVIDER", overridable: true });
  });
});

describe("GDPR break-glass", () => {
  it("is soft: an override is an Art. 49 derogation, and the hook says so", () => {
    expect(GDPR.breakGlass).toBe(true);
    const view = fakeSnapshotView(policiesOf({ tenant: usTenant }));
    const deny = decide(view, requestOf({ request: { requestedRegion: "us-east" } }), NOW);
    const soft = deny.reasons.filter((r) => r.effect === "DENY" && r.overridable);
    const extra = overrideReasons(soft, "us-east");
    expect(extra).toHaveLength(1);
    expect(extra[0]).toMatchObject({ code: "GDPR_ART49_DEROGATION", framework: "GDPR", effect: "INFO", overridable: false, region: "us-east" });
    expect(extra[0]!.message).toContain("Art. 49");
    expect(extra[0]!.message).toContain("GDPR_TRANSFER_NO_BASIS");
  });

  it("only GDPR reasons call for the derogation", () => {
    const pinningOnly = decide(fakeSnapshotView(policiesOf({ tenant: usTenant })), requestOf({ request: { requestedRegion: "apac-south" } }), NOW);
    expect(pinningOnly.reasons.map((r) => r.code)).toEqual(["REGION_NOT_ALLOWED"]);
    expect(overrideReasons(pinningOnly.reasons, "apac-south")).toEqual([]);
    expect(FRAMEWORK_MODULES.filter((m) => m.overrideReasons !== undefined).map((m) => m.framework)).toEqual(["GDPR"]);
  });
});

describe("gdprBasis", () => {
  it.each([
    ["eu-west", [], "WITHIN_EEA"],
    ["eu-central", ["SCC"], "WITHIN_EEA"],
    ["apac-east", [], "ADEQUACY"],
    ["ca-central", [], "ADEQUACY"],
    ["us-east", ["DPF"], "DPF"],
    ["us-west", ["SCC", "DPF"], "DPF"],
    ["us-west", ["SCC"], "SCC"],
    ["apac-south", ["DPF"], undefined],
    ["apac-south", ["SCC"], "SCC"],
    ["us-east", [], undefined],
  ] as const)("%s with %j: %s", (id, safeguards, basis) => {
    expect(gdprBasis(DEFAULT_REGIONS.find((r) => r.id === id)!, safeguards)).toBe(basis);
  });
});

const usTenant = { ...gdpr, allowedRegions: ["eu-central", "us-east", "us-west"] };
