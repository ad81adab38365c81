import { describe, expect, it } from "vitest";
import { decide } from "../../src/domain/decide.js";
import type { InferenceProvider } from "../../src/domain/region.js";
import { catalogWith, fakeSnapshotView } from "./fake-snapshot-view.js";
import { decisionCases, NOW, policiesOf, requestOf } from "./frameworks/framework-cases.js";

// Step 8 of docs/compliance-rules.md: the first provider, in catalog order, in the target region that
// every effective framework permits and the policy's allowlist (if any) names; a global-routing provider
// is never chosen for a pinned tenant; none: INFERENCE_NO_COMPLIANT_PROVIDER.

const GLOBAL: InferenceProvider = { id: "everywhere", endpoint: "https://api.everywhere.example", zeroDataRetention: true, noTraining: true, globalRouting: true };
const bedrock = (region: string): InferenceProvider => ({ id: "aws-bedrock", endpoint: `https://bedrock.${region}.example`, zeroDataRetention: true, noTraining: true, globalRouting: false });
const GLOBAL_FIRST = catalogWith({ "us-east": { inferenceProviders: [GLOBAL, bedrock("us-east")] }, "us-west": { inferenceProviders: [GLOBAL] } });
const NO_PROVIDERS = catalogWith({ "us-west": { inferenceProviders: [] } });

const us = { primaryRegion: "us-east", allowedRegions: ["us-west"] };
const inference = { operation: "INFERENCE" as const };

describe("inference provider selection", () => {
  decisionCases([
    { name: "no framework, no allowlist: the first provider", tenant: us, request: inference, allowed: true, target: "us-east", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    { name: "the allowlist decides among permitted providers", tenant: { ...us, inferenceProviders: ["anthropic"] }, request: inference, allowed: true, target: "us-east", provider: "anthropic", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "an allowlist naming no provider of the region",
      tenant: { ...us, inferenceProviders: ["openai"] }, view: { regions: catalogWith({ "us-east": { inferenceProviders: [bedrock("us-east")] } }) }, request: inference,
      allowed: false, target: "us-east", reasons: ["PRIMARY_REGION", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: ["us-west"],
    },
    { name: "a global-routing provider is never chosen", tenant: us, view: { regions: GLOBAL_FIRST }, request: inference, allowed: true, target: "us-east", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "only a global-routing provider: none",
      tenant: us, view: { regions: GLOBAL_FIRST }, request: { ...inference, requestedRegion: "us-west" },
      allowed: false, target: "us-west", reasons: ["ALLOWED_REGION", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: ["us-east"],
    },
    {
      name: "a region without providers",
      tenant: us, view: { regions: NO_PROVIDERS }, request: { ...inference, requestedRegion: "us-west" },
      allowed: false, target: "us-west", reasons: ["ALLOWED_REGION", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: ["us-east"],
    },
    { name: "a region without providers is fine for a READ", tenant: us, view: { regions: NO_PROVIDERS }, request: { requestedRegion: "us-west" }, allowed: true, target: "us-west", reasons: ["ALLOWED_REGION:PASS"] },
    {
      name: "two frameworks: each judges every provider; FERPA rejects anthropic, CCPA does not",
      tenant: { ...us, complianceFrameworks: ["FERPA", "CCPA"], inferenceProviders: ["anthropic"] }, request: inference,
      allowed: false, target: "us-east", reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA", "FERPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: [],
    },
    { name: "two frameworks: a provider both permit", tenant: { ...us, complianceFrameworks: ["FERPA", "CCPA"] }, request: inference, allowed: true, target: "us-east", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "FERPA_WITHIN_US_CA", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    { name: "the default region for unpinned tenants", view: { defaultRegion: "eu-west" }, request: inference, allowed: true, target: "eu-west", provider: "aws-bedrock", reasons: ["DEFAULT_REGION:INFO", "PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
  ]);

  it("routes to the provider's in-region endpoint and names it", () => {
    const d = decide(fakeSnapshotView(policiesOf({ tenant: { ...us, inferenceProviders: ["openai"] } })), requestOf({ request: { ...inference, requestedRegion: "us-west" } }), NOW);
    expect(d.routing).toEqual({
      region: "us-west",
      storageBucket: "residency-us-west",
      storageEndpoint: "https://s3.us-west-2.amazonaws.com",
      searchEndpoint: "https://search-residency-us-west.us-west-2.es.amazonaws.com",
      inferenceProvider: "openai",
      inferenceEndpoint: "https://us.api.openai.com/v1",
    });
    expect(d.reasons.at(-1)!.message).toContain('"openai"');
    expect(d.reasons.at(-1)!.message).toContain("the policy's provider allowlist");
  });

  it("the no-provider deny says why each provider was left out, and is hard when no soft rule alone excluded one", () => {
    const view = fakeSnapshotView(policiesOf({ tenant: { ...us, complianceFrameworks: ["FERPA"], inferenceProviders: ["anthropic"] } }), { regions: GLOBAL_FIRST });
    const d = decide(view, requestOf({ request: inference }), NOW);
    const none = d.reasons.at(-1)!;
    expect(none).toMatchObject({ code: "INFERENCE_NO_COMPLIANT_PROVIDER", overridable: false, region: "us-east" });
    expect(none.message).toContain("not on the policy's provider allowlist (anthropic): aws-bedrock");
    expect(none.message).toContain("routing globally (never chosen for a pinned tenant): everywhere");
    const empty = decide(fakeSnapshotView(policiesOf({ tenant: us }), { regions: NO_PROVIDERS }), requestOf({ request: { ...inference, requestedRegion: "us-west" } }), NOW);
    expect(empty.reasons.at(-1)!.message).toContain("the region has no inference provider");
  });

  it("soft framework rejections alone leave the no-provider deny overridable (FERPA on anthropic)", () => {
    const view = fakeSnapshotView(policiesOf({ tenant: { ...us, complianceFrameworks: ["FERPA"], inferenceProviders: ["anthropic"] } }));
    const d = decide(view, requestOf({ request: inference }), NOW);
    expect(d.reasons.slice(-2).map((r) => [r.code, r.overridable])).toEqual([
      ["FERPA_PROVIDER_NOT_PERMITTED", true],
      ["INFERENCE_NO_COMPLIANT_PROVIDER", true],
    ]);
  });
});
