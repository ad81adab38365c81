import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { decisionToProto, reasonsToProto } from "../../src/api/decision-mapping.js";
import { encodeResolveAccessResponse } from "../../src/api/resolve-access-encoding.js";
import { decide } from "../../src/domain/decide.js";
import type { Decision, DecisionRequest } from "../../src/domain/decision.js";
import type { EmergencyOverride } from "../../src/domain/emergency-override.js";
import type { SnapshotView } from "../../src/domain/snapshot-view.js";
import type { DataClassification, Operation } from "../../src/domain/vocabulary.js";
import { fakeSnapshotView, stored } from "../domain/fake-snapshot-view.js";

const NOW = 1_750_000_000_123;
const HOUR = 3_600_000;

const POLICIES = [
  stored({ tenantId: "k12", primaryRegion: "us-east", allowedRegions: ["us-west", "ca-central"], prohibitedRegions: ["eu-west"], complianceFrameworks: ["FERPA"], allowCrossRegionFailover: true }),
  stored({ tenantId: "k12", learnerId: "kid", ageBand: "UNDER_13", dataRetentionDays: 400, version: 4 }),
  stored({ tenantId: "k12", learnerId: "pinned", primaryRegion: "us-west", allowedRegions: [] }),
  stored({ tenantId: "eu", primaryRegion: "eu-west", allowedRegions: ["eu-central"], prohibitedRegions: ["us-east"], complianceFrameworks: ["GDPR"] }),
  stored({ tenantId: "ca", primaryRegion: "ca-central", allowedRegions: ["us-east"], complianceFrameworks: ["PIPEDA"] }),
  stored({ tenantId: "west", primaryRegion: "us-west", allowedRegions: ["us-east"], complianceFrameworks: ["FERPA", "CCPA"], inferenceProviders: ["anthropic"] }),
  stored({ tenantId: "apac", primaryRegion: "apac-east", prohibitedRegions: ["eu-west"], allowCrossRegionFailover: false }),
];

const OVERRIDE: EmergencyOverride = {
  overrideId: "ovr-1", tenantId: "eu", reason: "primary region outage", affectedLearners: [], sourceRegion: "eu-west",
  targetRegion: "us-east", durationHours: 1, status: "ACTIVE", requestedBy: "alice", requestedAt: NOW - HOUR, approvedBy: "bob",
  approvedAt: NOW - 10, expiresAt: NOW + HOUR, revokedBy: "", revokedAt: undefined, revokeReason: "", usageCount: 0, lastUsedAt: undefined,
};

const VIEWS: readonly SnapshotView[] = [
  fakeSnapshotView(POLICIES),
  fakeSnapshotView(POLICIES, { defaultRegion: "us-east", statuses: { "us-west": "DEGRADED", "apac-east": "DOWN", "us-east": ["DOWN", "maintenance"] } }),
  fakeSnapshotView(POLICIES, { overrides: [OVERRIDE] }),
];

const TENANTS: readonly [string, string][] = [["k12", ""], ["k12", "kid"], ["k12", "pinned"], ["k12", "nobody"], ["eu", ""], ["ca", ""], ["west", ""], ["apac", ""], ["unknown", ""]];
const REGIONS = ["", "us-east", "us-west", "eu-west", "eu-central", "ca-central", "apac-east"];
const OPERATIONS: readonly Operation[] = ["READ", "WRITE", "INFERENCE", "EXPORT"];
const CLASSIFICATIONS: readonly (DataClassification | undefined)[] = [undefined, "PUBLIC"];

/** Every combination above, each decided against every view: allowed, denied with alternatives, PUBLIC, overrides, failover, inference… */
function decisions(): Decision[] {
  const all: Decision[] = [];
  for (const view of VIEWS) {
    for (const [tenantId, learnerId] of TENANTS) {
      for (const requestedRegion of REGIONS) {
        for (const operation of OPERATIONS) {
          for (const dataClassification of CLASSIFICATIONS) {
            const request: DecisionRequest = { tenantId, learnerId, operation, requestedRegion, dataClassification };
            all.push(decide(view, request, NOW));
          }
        }
      }
    }
  }
  return all;
}

const METAS = [
  { decisionId: "9b2f6c1e-3a57-4d8e-b0c4-1f2e3d4c5b6a", snapshotVersion: 17, decidedAt: NOW },
  { decisionId: "", snapshotVersion: 0, decidedAt: 0 },
  { decisionId: "d", snapshotVersion: 2 ** 40 + 5, decidedAt: 1_750_000_000_000 },
  { decisionId: "décision-ид-✓", snapshotVersion: 128, decidedAt: 999 },
];

const viaToBinary = (response: ReturnType<typeof decisionToProto>) =>
  Buffer.from(toBinary(ResolveAccessResponseSchema, create(ResolveAccessResponseSchema, response)));

describe("ResolveAccessResponse encoding", () => {
  const all = decisions();

  it("gives toBinary's bytes for every decision it encodes, and encodes every decision with shared reasons", () => {
    const outcomes = new Set<string>();
    for (const decision of all) {
      for (const meta of METAS) {
        const response = decisionToProto(decision, meta);
        const fast = encodeResolveAccessResponse(response);
        expect(fast !== undefined).toBe(Object.isFrozen(decision.reasons));
        if (fast === undefined) continue;
        expect(Buffer.from(fast)).toEqual(viaToBinary(response));
        outcomes.add(decision.allowed ? "allowed" : decision.alternativeRegions.length > 0 ? "denied with alternatives" : "denied");
      }
    }
    expect([...outcomes].sort()).toEqual(["allowed", "denied", "denied with alternatives"]);
  });

  it("covers the variety the cases are meant to have", () => {
    const codes = new Set(all.flatMap((d) => d.reasons.map((r) => r.code)));
    for (const code of ["PUBLIC_DATA", "REGION_FAILOVER", "REGION_DEGRADED", "EMERGENCY_OVERRIDE_APPLIED", "INFERENCE_PROVIDER_SELECTED", "DEFAULT_REGION", "NO_POLICY", "REGION_PROHIBITED", "COPPA_ADDED_FOR_AGE", "GDPR_ART49_DEROGATION", "INFERENCE_NO_COMPLIANT_PROVIDER", "PIPEDA_CROSS_BORDER_NOTICE"]) {
      expect(codes).toContain(code);
    }
    expect(all.filter((d) => Object.isFrozen(d.reasons)).length).toBeGreaterThan(all.length / 3);
  });

  it("decodes to exactly the message create() makes", () => {
    const decision = all.find((d) => d.allowed && Object.isFrozen(d.reasons))!;
    const response = decisionToProto(decision, METAS[0]!);
    expect(fromBinary(ResolveAccessResponseSchema, encodeResolveAccessResponse(response)!)).toEqual(
      create(ResolveAccessResponseSchema, response),
    );
  });

  it("never answers from a stale entry when the same reasons come with other fields", () => {
    const decision = all.find((d) => d.allowed && Object.isFrozen(d.reasons) && d.routing !== undefined)!;
    const response = decisionToProto(decision, METAS[0]!);
    encodeResolveAccessResponse(response);
    const variants: ReturnType<typeof decisionToProto>[] = [
      { ...response, policyVersion: 99n },
      { ...response, allowed: false, alternativeRegions: ["ca-central"] },
      { ...response, infrastructure: { ...decision.routing!, storageBucket: "elsewhere" } } as typeof response,
      { ...response, effectiveFrameworks: [] },
      { ...response, primaryRegion: "eu-west", crossRegion: !response.crossRegion },
      response,
    ];
    for (const variant of variants) expect(Buffer.from(encodeResolveAccessResponse(variant)!)).toEqual(viaToBinary(variant));
  });

  it("leaves to toBinary what it cannot vouch for", () => {
    const decision = all.find((d) => d.allowed && Object.isFrozen(d.reasons))!;
    const response = decisionToProto(decision, METAS[0]!);
    const unknownField = { ...create(ResolveAccessResponseSchema, response), reasons: response.reasons, $unknown: [{ no: 99, wireType: 0, data: new Uint8Array([1]) }] };
    for (const value of [
      { ...response, reasons: [...response.reasons!] },
      { ...response, snapshotVersion: 2n ** 60n },
      { ...response, decideTime: { seconds: -5n, nanos: 0 } },
      unknownField,
      undefined,
      "not a message",
    ]) {
      expect(encodeResolveAccessResponse(value)).toBeUndefined();
    }
  });

  it("maps the same frozen reasons to the same frozen proto reasons, and other reasons afresh", () => {
    const shared = all.find((d) => Object.isFrozen(d.reasons))!.reasons;
    expect(reasonsToProto(shared)).toBe(reasonsToProto(shared));
    expect(Object.isFrozen(reasonsToProto(shared))).toBe(true);
    const own = [...shared];
    expect(reasonsToProto(own)).not.toBe(reasonsToProto(own));
    expect(reasonsToProto(own)).toEqual(reasonsToProto(shared));
  });
});
