import { describe, expect, it } from "vitest";
import { decide } from "../../../src/domain/decide.js";
import { mergeEffectivePolicy } from "../../../src/domain/effective-policy.js";
import { COPPA } from "../../../src/domain/frameworks/coppa.js";
import { FRAMEWORK_MODULES } from "../../../src/domain/frameworks/framework-registry.js";
import type { InferenceProvider } from "../../../src/domain/region.js";
import { catalogWith, fakeSnapshotView, stored } from "../fake-snapshot-view.js";
import { decisionCases, NOW, policiesOf, requestOf, validate, writeCases } from "./framework-cases.js";

// COPPA rows of docs/compliance-rules.md: a written retention period is required; the retention in force
// is capped (365 days unless configured), reported as obligation COPPA_RETENTION_CAPPED; inference only
// from a provider with zero retention and no training; a hard rule. An UNDER_13 learner has COPPA.

const coppa = { complianceFrameworks: ["COPPA"] as const, primaryRegion: "us-east" };

describe("COPPA write-time rules", () => {
  writeCases([
    { name: "a written retention period: valid", policy: { ...coppa, dataRetentionDays: 2555 }, expected: [] },
    { name: "no retention period", policy: coppa, expected: ["policy.data_retention_days COPPA_RETENTION_REQUIRED"] },
    { name: "UNDER_13 learner: COPPA applies, retention needed", tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", ageBand: "UNDER_13" }, expected: ["policy.data_retention_days COPPA_RETENTION_REQUIRED"] },
    { name: "UNDER_13 learner: the tenant's retention counts", tenant: { primaryRegion: "us-east", dataRetentionDays: 30 }, policy: { learnerId: "l-1", ageBand: "UNDER_13" }, expected: [] },
    { name: "UNDER_13 learner: its own retention counts", tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", ageBand: "UNDER_13", dataRetentionDays: 30 }, expected: [] },
    { name: "learner inherits COPPA from its tenant", tenant: coppa, policy: { learnerId: "l-1" }, expected: ["policy.data_retention_days COPPA_RETENTION_REQUIRED"] },
    { name: "an older learner gets no COPPA", tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", ageBand: "AGE_13_TO_15" }, expected: [] },
    { name: "an age band on a tenant policy is rejected, and adds no COPPA", policy: { primaryRegion: "us-east", ageBand: "UNDER_13" }, expected: ["policy.age_band learner_only"] },
    { name: "a retention out of range is a range error, not a missing one", policy: { ...coppa, dataRetentionDays: 0 }, expected: ["policy.data_retention_days range"] },
  ]);

  it("the message says why COPPA applies", () => {
    const [listed] = validate({ policy: coppa });
    expect(listed!.message).toBe(
      "policy.data_retention_days is required: the policy's frameworks include COPPA, and COPPA needs a written retention period, never indefinite",
    );
    const [young] = validate({ tenant: { primaryRegion: "us-east" }, policy: { learnerId: "l-1", ageBand: "UNDER_13" } });
    expect(young!.message).toContain("age band UNDER_13");
    expect(young!.message).toContain("on this policy or its tenant's");
  });
});

describe("COPPA retention in force (merge time)", () => {
  const tenant = (days: number | undefined) => stored({ tenantId: "t", ...coppa, dataRetentionDays: days });

  it.each([
    { written: 2555, cap: undefined, effective: 365, capped: true },
    { written: 366, cap: undefined, effective: 365, capped: true },
    { written: 365, cap: undefined, effective: 365, capped: false },
    { written: 30, cap: undefined, effective: 30, capped: false },
    { written: 2555, cap: 90, effective: 90, capped: true },
    { written: 60, cap: 90, effective: 60, capped: false },
    { written: undefined, cap: undefined, effective: 365, capped: true },
  ])("written $written, cap $cap → $effective", ({ written, cap, effective, capped }) => {
    const p = mergeEffectivePolicy(tenant(written), undefined, cap === undefined ? undefined : { coppaRetentionCapDays: cap });
    expect(p.dataRetentionDays).toBe(written);
    expect(p.effectiveRetentionDays).toBe(effective);
    expect(p.obligations.map((o) => [o.code, o.effect, o.framework])).toEqual(
      capped ? [["COPPA_RETENTION_CAPPED", "OBLIGATION", "COPPA"]] : [],
    );
  });

  it("the obligation names the written period and the cap", () => {
    const [obligation] = mergeEffectivePolicy(tenant(2555), undefined).obligations;
    expect(obligation).toEqual({
      code: "COPPA_RETENTION_CAPPED",
      message: "COPPA: the written retention of 2555 days is kept, but the retention in force is capped at 365 days",
      framework: "COPPA",
      effect: "OBLIGATION",
      overridable: false,
      region: "",
    });
  });

  it("an UNDER_13 learner is capped through its tenant's retention", () => {
    const p = mergeEffectivePolicy(
      stored({ tenantId: "t", primaryRegion: "us-east", dataRetentionDays: 730 }),
      stored({ tenantId: "t", learnerId: "l-1", ageBand: "UNDER_13" }),
    );
    expect(p.effectiveRetentionDays).toBe(365);
    expect(p.obligations.map((o) => o.code)).toEqual(["COPPA_RETENTION_CAPPED"]);
  });

  it("without COPPA nothing is capped", () => {
    const p = mergeEffectivePolicy(stored({ tenantId: "t", primaryRegion: "us-east", dataRetentionDays: 36_500 }), undefined);
    expect(p.effectiveRetentionDays).toBe(36_500);
    expect(p.obligations).toEqual([]);
    expect(mergeEffectivePolicy(stored({ tenantId: "t", primaryRegion: "us-east" }), undefined).effectiveRetentionDays).toBeUndefined();
  });

  it("rejects a cap that is not a whole number of days", () => {
    expect(() => mergeEffectivePolicy(tenant(30), undefined, { coppaRetentionCapDays: 0 })).toThrow(RangeError);
    expect(() => mergeEffectivePolicy(tenant(30), undefined, { coppaRetentionCapDays: 1.5 })).toThrow(RangeError);
  });
});

// A provider that keeps nothing but trains on inputs: COPPA (and CCPA) reject it, FERPA does not.
const TRAINER: InferenceProvider = { id: "trainer", endpoint: "https://trainer.example", zeroDataRetention: true, noTraining: false, globalRouting: false };
const withTrainer = catalogWith({ "us-east": { inferenceProviders: [TRAINER] } });

describe("COPPA decision-time rules", () => {
  const tenant = { ...coppa, dataRetentionDays: 365, allowedRegions: ["us-west"] };
  decisionCases([
    { name: "no location rule: READ passes on pinning", tenant, allowed: true, target: "us-east", reasons: ["PRIMARY_REGION:PASS"] },
    { name: "inference: zero retention and no training", tenant, request: { operation: "INFERENCE" }, allowed: true, target: "us-east", provider: "aws-bedrock", reasons: ["PRIMARY_REGION", "INFERENCE_PROVIDER_SELECTED:PASS"] },
    {
      name: "inference: anthropic keeps data (hard deny)",
      tenant: { ...tenant, inferenceProviders: ["anthropic"] }, request: { operation: "INFERENCE" }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "COPPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: [],
    },
    {
      name: "inference: a provider that trains on inputs (hard deny)",
      tenant, view: { regions: withTrainer }, request: { operation: "INFERENCE" }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "COPPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"], alternatives: ["us-west"],
    },
    {
      name: "UNDER_13 learner: COPPA added for age (INFO), and its provider rule applies",
      tenant: { primaryRegion: "us-east", dataRetentionDays: 30, complianceFrameworks: ["FERPA"] }, learner: { ageBand: "UNDER_13" },
      view: { regions: withTrainer }, request: { operation: "INFERENCE" }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "COPPA_ADDED_FOR_AGE:INFO", "FERPA_WITHIN_US_CA:PASS", "COPPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"],
      alternatives: [],
    },
    {
      name: "UNDER_13 learner with PUBLIC data: COPPA still noted, provider rules still apply",
      tenant: { primaryRegion: "us-east", dataRetentionDays: 30, inferenceProviders: ["anthropic"] }, learner: { ageBand: "UNDER_13" },
      request: { operation: "INFERENCE", dataClassification: "PUBLIC" }, allowed: false, target: "us-east",
      reasons: ["PRIMARY_REGION", "COPPA_ADDED_FOR_AGE:INFO", "COPPA_PROVIDER_NOT_PERMITTED:DENY", "INFERENCE_NO_COMPLIANT_PROVIDER:DENY"],
      alternatives: [],
    },
  ]);

  it("is the only hard framework: its denies are never overridable, nor the no-provider deny they cause", () => {
    expect(COPPA.breakGlass).toBe(false);
    expect(FRAMEWORK_MODULES.filter((m) => !m.breakGlass).map((m) => m.framework)).toEqual(["COPPA"]);
    const view = fakeSnapshotView(policiesOf({ tenant: { ...tenant, complianceFrameworks: ["COPPA", "CCPA"] } }), { regions: withTrainer });
    const d = decide(view, requestOf({ request: { operation: "INFERENCE" } }), NOW);
    expect(d.reasons.filter((r) => r.effect === "DENY").map((r) => [r.code, r.overridable])).toEqual([
      ["CCPA_PROVIDER_NOT_PERMITTED", true],
      ["COPPA_PROVIDER_NOT_PERMITTED", false],
      ["INFERENCE_NO_COMPLIANT_PROVIDER", false],
    ]);
    expect(d.reasons.find((r) => r.code === "COPPA_PROVIDER_NOT_PERMITTED")!.message).toContain("trainer");
  });
});
