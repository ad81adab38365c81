import { describe, expect, it } from "vitest";
import { decide } from "../../src/domain/decide.js";
import type { DecisionRequest } from "../../src/domain/decision.js";
import type { EmergencyOverride } from "../../src/domain/emergency-override.js";
import type { Operation } from "../../src/domain/vocabulary.js";
import { catalogWith, fakeSnapshotView, stored } from "./fake-snapshot-view.js";

const NOW = 1_000_000;
const HOUR = 3_600_000;

function override(o: Partial<EmergencyOverride>): EmergencyOverride {
  return {
    overrideId: "ovr-1",
    tenantId: "acme",
    reason: "critical system failure in the primary region",
    affectedLearners: [],
    sourceRegion: "us-east",
    targetRegion: "eu-west",
    durationHours: 1,
    status: "ACTIVE",
    requestedBy: "alice",
    requestedAt: NOW - HOUR,
    approvedBy: "bob",
    approvedAt: NOW - 10,
    expiresAt: NOW + HOUR,
    revokedBy: "",
    revokedAt: undefined,
    revokeReason: "",
    usageCount: 0,
    lastUsedAt: undefined,
    ...o,
  };
}

const request = (r: Partial<DecisionRequest> & { operation?: Operation } = {}): DecisionRequest => ({
  tenantId: "acme",
  learnerId: "s1",
  operation: "READ",
  requestedRegion: "eu-west",
  dataClassification: undefined,
  ...r,
});

const tenant = stored({ tenantId: "acme", primaryRegion: "us-east", prohibitedRegions: ["eu-west"] });
const codes = (d: { reasons: readonly { code: string }[] }) => d.reasons.map((r) => r.code);

describe("emergency overrides in a decision", () => {
  it("turns a soft deny into an allow, keeping the overridden rule in reasons", () => {
    const view = fakeSnapshotView([tenant], { overrides: [override({})] });
    const d = decide(view, request(), NOW);
    expect(d.allowed).toBe(true);
    expect(d.emergencyOverrideId).toBe("ovr-1");
    expect(codes(d)).toEqual(["REGION_PROHIBITED", "EMERGENCY_OVERRIDE_APPLIED"]);
    expect(d.routing?.region).toBe("eu-west");
  });

  it.each([
    ["not yet approved (PENDING)", override({ status: "PENDING", expiresAt: undefined })],
    ["revoked", override({ status: "REVOKED" })],
    ["another tenant", override({ tenantId: "other" })],
    ["another learner", override({ affectedLearners: ["s2"] })],
    ["another source region", override({ sourceRegion: "us-west" })],
    ["another target region", override({ targetRegion: "eu-central" })],
  ])("does not apply when %s", (_name, o) => {
    const d = decide(fakeSnapshotView([tenant], { overrides: [o] }), request(), NOW);
    expect(d.allowed).toBe(false);
    expect(d.emergencyOverrideId).toBe("");
  });

  it("expires exactly at expires_at (exclusive), whether or not a sweeper ran", () => {
    const view = fakeSnapshotView([tenant], { overrides: [override({ expiresAt: NOW + 5 })] });
    expect(decide(view, request(), NOW + 4).allowed).toBe(true);
    expect(decide(view, request(), NOW + 5).allowed).toBe(false);
    expect(decide(view, request(), NOW + 6).allowed).toBe(false);
  });

  it("covers every learner and tenant-level requests when no learners are named, only the named ones otherwise", () => {
    const all = fakeSnapshotView([tenant], { overrides: [override({})] });
    expect(decide(all, request({ learnerId: "" }), NOW).allowed).toBe(true);
    const named = fakeSnapshotView([tenant], { overrides: [override({ affectedLearners: ["s1"] })] });
    expect(decide(named, request({ learnerId: "s1" }), NOW).allowed).toBe(true);
    expect(decide(named, request({ learnerId: "" }), NOW).allowed).toBe(false);
  });

  it("says a GDPR transfer under an override is an Art. 49 derogation", () => {
    const gdpr = stored({ tenantId: "acme", primaryRegion: "eu-west", complianceFrameworks: ["GDPR"], allowedRegions: [] });
    const view = fakeSnapshotView([gdpr], { overrides: [override({ sourceRegion: "eu-west", targetRegion: "apac-south" })] });
    const d = decide(view, request({ requestedRegion: "apac-south" }), NOW);
    expect(d.allowed).toBe(true);
    expect(codes(d)).toEqual(expect.arrayContaining(["REGION_NOT_ALLOWED", "GDPR_TRANSFER_NO_BASIS", "GDPR_ART49_DEROGATION", "EMERGENCY_OVERRIDE_APPLIED"]));
  });

  it("never overrides a hard rule: COPPA's provider restriction", () => {
    // Only anthropic (retains data) serves us-east here: COPPA denies it, hard.
    const regions = catalogWith({
      "us-east": { inferenceProviders: [{ id: "anthropic", endpoint: "https://api.anthropic.com", zeroDataRetention: false, noTraining: true, globalRouting: false }] },
    });
    const coppa = stored({ tenantId: "acme", primaryRegion: "us-east", complianceFrameworks: ["COPPA"], dataRetentionDays: 30 });
    const view = fakeSnapshotView([coppa], { regions, overrides: [override({ targetRegion: "us-east" })] });
    const d = decide(view, request({ requestedRegion: "us-east", operation: "INFERENCE" }), NOW);
    expect(d.allowed).toBe(false);
    expect(codes(d)).toContain("COPPA_PROVIDER_NOT_PERMITTED");
    expect(d.emergencyOverrideId).toBe("");
  });

  it("lets an override pick a provider only soft rules rejected (CCPA trains-on-inputs is soft)", () => {
    const regions = catalogWith({
      "us-east": { inferenceProviders: [{ id: "trainer", endpoint: "https://t.example", zeroDataRetention: true, noTraining: false, globalRouting: false }] },
    });
    const ccpa = stored({ tenantId: "acme", primaryRegion: "us-east", complianceFrameworks: ["CCPA"] });
    const view = fakeSnapshotView([ccpa], { regions, overrides: [override({ targetRegion: "us-east" })] });
    const d = decide(view, request({ requestedRegion: "us-east", operation: "INFERENCE" }), NOW);
    expect(d.allowed).toBe(true);
    expect(d.routing?.inferenceProvider).toBe("trainer");
    expect(codes(d)).toEqual(expect.arrayContaining(["CCPA_PROVIDER_NOT_PERMITTED", "EMERGENCY_OVERRIDE_APPLIED"]));
  });

  it("does not bring a DOWN region back: REGION_UNAVAILABLE is not overridable", () => {
    const view = fakeSnapshotView([tenant], { overrides: [override({})], statuses: { "eu-west": "DOWN" } });
    const d = decide(view, request(), NOW);
    expect(d.allowed).toBe(false);
    expect(codes(d)).toContain("REGION_UNAVAILABLE");
  });
});
