import { describe, expect, it } from "vitest";
import { LGPD } from "../../../src/domain/frameworks/lgpd.js";
import { decisionCases, validate, writeCases } from "./framework-cases.js";

// LGPD rows of docs/compliance-rules.md (planned): no Brazilian region, so every region is a transfer
// that needs safeguard SCC, at write time and at decision time; overridable.

const lgpd = { complianceFrameworks: ["LGPD"] as const, primaryRegion: "us-east" };

describe("LGPD write-time rules", () => {
  writeCases([
    { name: "with SCC: valid", policy: { ...lgpd, transferSafeguards: ["SCC"] }, expected: [] },
    { name: "without SCC", policy: lgpd, expected: ["policy.transfer_safeguards LGPD_SAFEGUARD_REQUIRED"] },
    { name: "DPF is no basis for LGPD", policy: { ...lgpd, transferSafeguards: ["DPF"] }, expected: ["policy.transfer_safeguards LGPD_SAFEGUARD_REQUIRED"] },
    { name: "a learner inherits its tenant's SCC", tenant: { primaryRegion: "us-east", transferSafeguards: ["SCC"] }, policy: { learnerId: "l-1", complianceFrameworks: ["LGPD"] }, expected: [] },
    { name: "a learner's own safeguards replace its tenant's", tenant: { ...lgpd, transferSafeguards: ["SCC"] }, policy: { learnerId: "l-1", transferSafeguards: ["DPF"] }, expected: ["policy.transfer_safeguards LGPD_SAFEGUARD_REQUIRED"] },
  ]);

  it("the message says LGPD support needs SCC", () => {
    const [v] = validate({ policy: lgpd });
    expect(v!.message).toContain("policy.transfer_safeguards must list SCC: LGPD support needs it");
  });
});

describe("LGPD decision-time rules", () => {
  decisionCases([
    { name: "with SCC: the transfer rests on it", tenant: { ...lgpd, transferSafeguards: ["SCC"] }, allowed: true, target: "us-east", reasons: ["PRIMARY_REGION", "LGPD_TRANSFER_SAFEGUARD:PASS"] },
    { name: "with SCC, EEA too (no adequacy applies)", tenant: { ...lgpd, primaryRegion: "eu-west", transferSafeguards: ["SCC"] }, allowed: true, target: "eu-west", reasons: ["PRIMARY_REGION", "LGPD_TRANSFER_SAFEGUARD:PASS"] },
    { name: "without SCC: every region denied (soft), so no alternative", tenant: { ...lgpd, allowedRegions: ["ca-central"] }, allowed: false, target: "us-east", reasons: ["PRIMARY_REGION", "LGPD_SAFEGUARD_REQUIRED:DENY"], alternatives: [] },
    { name: "without SCC, PUBLIC data passes", tenant: lgpd, request: { dataClassification: "PUBLIC" }, allowed: true, target: "us-east", reasons: ["PRIMARY_REGION", "PUBLIC_DATA:INFO"] },
    { name: "GDPR and LGPD both run, in registry order", tenant: { ...lgpd, complianceFrameworks: ["LGPD", "GDPR"], primaryRegion: "eu-central", transferSafeguards: ["SCC"] }, allowed: true, target: "eu-central", reasons: ["PRIMARY_REGION", "GDPR_TRANSFER_WITHIN_EEA:PASS", "LGPD_TRANSFER_SAFEGUARD:PASS"] },
  ]);

  it("is soft", () => {
    expect(LGPD.breakGlass).toBe(true);
  });
});
