import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, PreconditionFailureSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ReasonCode, ReasonEffect } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { AgeBand, ComplianceFramework, DataClassification, Operation, TransferSafeguard } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
const admin = () => createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
const residency = () => createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected failure"); }, (e: unknown) => ConnectError.from(e));
const codes = (reasons: { code: ReasonCode }[]) => reasons.map((r) => r.code);

beforeAll(async () => {
  t = await startTestApp({ COPPA_RETENTION_CAP_DAYS: "200" });
  await admin().createPolicy({
    policy: {
      tenantId: "eu-school", primaryRegion: "eu-west", allowedRegions: ["eu-central", "us-east", "apac-east"],
      complianceFrameworks: [ComplianceFramework.GDPR], transferSafeguards: [TransferSafeguard.DPF], dataRetentionDays: 3650,
    },
  });
  await admin().createPolicy({ policy: { tenantId: "eu-school", learnerId: "kid-1", ageBand: AgeBand.UNDER_13 } });
});
afterAll(async () => {
  await t.cleanup();
});

describe("compliance rules over the API", () => {
  it("allows a GDPR transfer on a DPF safeguard and says which framework checked it", async () => {
    const res = await residency().resolveAccess({ tenantId: "eu-school", operation: Operation.READ, requestedRegion: "us-east" });
    expect(res.allowed).toBe(true);
    const gdpr = res.reasons.find((r) => r.code === ReasonCode.GDPR_TRANSFER_SAFEGUARD);
    expect(gdpr?.framework).toBe(ComplianceFramework.GDPR);
    expect(gdpr?.effect).toBe(ReasonEffect.PASS);
  });

  it("routes inference to a provider every framework permits, and denies when none is left", async () => {
    const tenant = await residency().resolveAccess({ tenantId: "eu-school", operation: Operation.INFERENCE });
    expect(tenant.allowed).toBe(true);
    expect(tenant.infrastructure?.inferenceProvider).not.toBe("");
    expect(tenant.infrastructure?.inferenceEndpoint).toMatch(/^https:\/\//);
    expect(codes(tenant.reasons)).toContain(ReasonCode.INFERENCE_PROVIDER_SELECTED);
  });

  it("adds COPPA for an under-13 learner and caps its retention (configurable cap)", async () => {
    const res = await residency().getEffectivePolicy({ tenantId: "eu-school", learnerId: "kid-1" });
    expect(res.effectivePolicy?.complianceFrameworks).toEqual([ComplianceFramework.GDPR, ComplianceFramework.COPPA]);
    expect(res.effectivePolicy?.dataRetentionDays).toBe(3650);
    expect(res.effectivePolicy?.effectiveRetentionDays).toBe(200);
    expect(res.effectivePolicy?.obligations.map((o) => o.code)).toContain(ReasonCode.COPPA_RETENTION_CAPPED);
  });

  it("skips transfer rules for PUBLIC data but still honours prohibited regions", async () => {
    const res = await residency().resolveAccess({
      tenantId: "eu-school", operation: Operation.READ, requestedRegion: "us-west", dataClassification: DataClassification.PUBLIC,
    });
    // us-west is not in the allowed list: pinning still denies, transfer rules do not run.
    expect(res.allowed).toBe(false);
    expect(codes(res.reasons)).toContain(ReasonCode.REGION_NOT_ALLOWED);
  });

  it("rejects a policy that breaks framework rules, each violation naming framework and field", async () => {
    const err = await failure(
      admin().createPolicy({
        policy: { tenantId: "us-k12", primaryRegion: "eu-west", allowedRegions: ["apac-south"], complianceFrameworks: [ComplianceFramework.FERPA, ComplianceFramework.COPPA] },
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    const violations = err.findDetails(BadRequestSchema)[0]!.fieldViolations;
    expect(violations.map((v) => v.reason)).toEqual(
      expect.arrayContaining(["FERPA_PRIMARY_OUTSIDE_US_CA", "FERPA_ALLOWED_REGION_OUTSIDE_US_CA", "COPPA_RETENTION_REQUIRED"]),
    );
    expect(violations.find((v) => v.reason === "COPPA_RETENTION_REQUIRED")?.field).toBe("policy.data_retention_days");
  });

  it("rejects GDPR with FERPA as impossible, naming both", async () => {
    const err = await failure(
      admin().createPolicy({ policy: { tenantId: "both", primaryRegion: "eu-west", complianceFrameworks: [ComplianceFramework.GDPR, ComplianceFramework.FERPA] } }),
    );
    const conflict = err.findDetails(BadRequestSchema)[0]!.fieldViolations.find((v) => v.reason === "FRAMEWORKS_INCOMPATIBLE");
    expect(conflict?.description).toMatch(/GDPR/);
    expect(conflict?.description).toMatch(/FERPA/);
  });

  it("refuses a tenant change that would break a learner's framework rules, naming the learner", async () => {
    const { policies } = await admin().listPolicies({ tenantId: "eu-school" });
    const tenant = policies.find((p) => p.learnerId === "")!;
    // Dropping the retention breaks COPPA for the under-13 learner that inherits it.
    const err = await failure(admin().updatePolicy({ policy: { ...tenant, dataRetentionDays: undefined }, expectedVersion: tenant.version }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("kid-1");
    expect(err.findDetails(PreconditionFailureSchema)[0]?.violations.some((v) => v.type === "COPPA_RETENTION_REQUIRED")).toBe(true);
  });
});
