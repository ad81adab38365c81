import { describe, expect, it } from "vitest";
import { CCPA } from "../../../src/domain/frameworks/ccpa.js";
import type { InferenceProvider } from "../../../src/domain/region.js";
import { catalogWith } from "../fake-snapshot-view.js";
import { decisionCases, writeCases } from "./framework-cases.js";

// CCPA rows of docs/compliance-rules.md: no rule on location; inference only from a provider with no
// training on inputs; overridable.

const ccpa = { complianceFrameworks: ["CCPA"] as const, primaryRegion: "us-west" };
const TRAINER: InferenceProvider = { id: "trainer", endpoint: "https://trainer.example", zeroDataRetention: true, noTraining: false, globalRouting: false };
const TRAINER_FIRST = catalogWith({ "us-west": { inferenceProviders: [TRAINER, { id: "keeper", endpoint: "https://keeper.example", zeroDataRetention: false, noTraining: true, globalRouting: false }] } });

describe("CCPA write-time rules", () => {
  writeCases([
    { name: "none on location: any primary and allowed regions", policy: { ...ccpa, primaryRegion: "apac-south", allowedRegions: ["eu-west", "us-east"] }, expected: [] },
    { name: "no retention needed", policy: ccpa, expected: [] },
  ]);
});

describe("CCPA decision-time rules", () => {
  const tenant = { ...ccpa, allowedRegions: ["apac-south", "us-east"] };
  decisionCases([
    { name: "no transfer rule: pinning alone", tenant, request: { requestedRegion: "apac-south" }, allowed: true, target: "apac-south", reasons: ["ALLOWED_REGION:PASS"] },
    { name: "inference: anthropic does not train, so CCPA permits it", tenant: { ...tenant, inferenceProviders: ["anthropic"] }, request: { operation: "INFERENCE" }, allowed: true, target: "us-west", provider: "anthropic", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    { name: "inference: the trainer is skipped, the next in catalog order wins", tenant, view: { regions: TRAINER_FIRST }, request: { operation: "INFERENCE" }, allowed: true, target: "us-west", provider: "keeper", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "inference: only a provider that trains on inputs (soft deny)",
      tenant: { ...tenant, inferenceProviders: ["trainer"] }, view: { regions: TRAINER_FIRST }, request: { operation: "INFERENCE" }, allowed: false, target: "us-west",
      reasons: ["PRIMARY_REGION", "CCPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: [],
    },
  ]);

  it("is soft", () => {
    expect(CCPA.breakGlass).toBe(true);
    expect(CCPA.transfer).toBeUndefined();
  });
});
