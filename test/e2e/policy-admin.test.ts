import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema, PreconditionFailureSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, Operation } from "../../gen/residency/v1/types_pb.js";
import { connectJson } from "../support/connect-json.js";
import { TEST_ADMIN_SUBJECT } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
const admin = () => createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
const residency = () => createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected the call to fail"); }, (e: unknown) => ConnectError.from(e));

beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.cleanup();
});

describe("policy administration", () => {
  it("creates, reads, updates and deletes a policy, and decisions follow each change at once", async () => {
    const { policy } = await admin().createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
    expect(policy?.policyId).toMatch(/\S/);
    expect(policy?.version).toBe(1n);
    expect(policy?.createdBy).toBe(TEST_ADMIN_SUBJECT);
    expect((await residency().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ })).targetRegion).toBe("us-east");

    const updated = await admin().updatePolicy({
      policy: { ...policy!, primaryRegion: "us-west", allowedRegions: ["us-east"] },
      expectedVersion: 1n,
    });
    expect(updated.policy?.version).toBe(2n);
    expect((await residency().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ })).targetRegion).toBe("us-west");

    const old = await admin().getPolicy({ policyId: policy!.policyId, version: 1n });
    expect(old.policy?.primaryRegion).toBe("us-east");
    const current = await admin().getPolicy({ policyId: policy!.policyId });
    expect(current.policy?.version).toBe(2n);

    await admin().deletePolicy({ policyId: policy!.policyId, expectedVersion: 2n });
    const after = await residency().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ });
    expect(after.allowed).toBe(false);
    expect((await failure(admin().getPolicy({ policyId: policy!.policyId }))).code).toBe(Code.NotFound);
  });

  it("reports every violation at once, one detail per field", async () => {
    const err = await failure(
      admin().createPolicy({
        policy: {
          tenantId: "acme-edu",
          primaryRegion: "eu-west",
          allowedRegions: ["us-west", "moon-base"],
          prohibitedRegions: ["eu-west", "us-west"],
          dataRetentionDays: 40000,
          complianceFrameworks: [ComplianceFramework.UNSPECIFIED],
        },
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    const fields = err.findDetails(BadRequestSchema)[0]!.fieldViolations.map((v) => v.field);
    // The primary region being prohibited is reported on the prohibited entry; us-west is both allowed and prohibited.
    expect(fields).toHaveLength(5);
    expect(fields).toEqual(
      expect.arrayContaining([
        "policy.compliance_frameworks[0]",
        "policy.allowed_regions[1]",
        "policy.prohibited_regions[0]",
        "policy.allowed_regions[0]",
        "policy.data_retention_days",
      ]),
    );
    expect((await admin().listPolicies({})).policies).toHaveLength(0);
  });

  it("allows one tenant policy per tenant and one per learner", async () => {
    await admin().createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
    await admin().createPolicy({ policy: { tenantId: "acme-edu", learnerId: "s1" } });
    expect((await failure(admin().createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-west" } }))).code).toBe(Code.AlreadyExists);
    expect((await failure(admin().createPolicy({ policy: { tenantId: "acme-edu", learnerId: "s1" } }))).code).toBe(Code.AlreadyExists);
  });

  it("answers ABORTED with the current version to a stale update, and keeps the stored policy", async () => {
    const { policy } = await admin().createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
    await admin().updatePolicy({ policy: { ...policy!, emergencyContact: "a@x" }, expectedVersion: 1n });
    const err = await failure(admin().updatePolicy({ policy: { ...policy!, emergencyContact: "b@x" }, expectedVersion: 1n }));
    expect(err.code).toBe(Code.Aborted);
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.current_version).toBe("2");
    expect((await admin().getPolicy({ policyId: policy!.policyId })).policy?.emergencyContact).toBe("a@x");
    expect((await failure(admin().deletePolicy({ policyId: policy!.policyId, expectedVersion: 1n }))).code).toBe(Code.Aborted);
  });

  it("refuses a tenant policy change that would break a learner's effective policy, naming the learner", async () => {
    const { policy } = await admin().createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
    await admin().createPolicy({ policy: { tenantId: "acme-edu", learnerId: "s1", allowedRegions: ["us-west"] } });
    const err = await failure(
      admin().updatePolicy({ policy: { ...policy!, prohibitedRegions: ["us-west"] }, expectedVersion: 1n }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("s1");
    expect(err.findDetails(PreconditionFailureSchema)[0]?.violations.length).toBeGreaterThan(0);
    const del = await failure(admin().deletePolicy({ policyId: policy!.policyId, expectedVersion: 1n }));
    expect(del.code).toBe(Code.FailedPrecondition);
  });

  it("pages through policies with stable tokens and a tenant filter", async () => {
    for (const tenant of ["t1", "t2", "t3"]) {
      await admin().createPolicy({ policy: { tenantId: tenant, primaryRegion: "eu-west" } });
      await admin().createPolicy({ policy: { tenantId: tenant, learnerId: "l1" } });
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await admin().listPolicies({ pageSize: 4, pageToken });
      seen.push(...page.policies.map((p) => `${p.tenantId}/${p.learnerId}`));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(["t1/", "t1/l1", "t2/", "t2/l1", "t3/", "t3/l1"]);
    const t2 = await admin().listPolicies({ tenantId: "t2" });
    expect(t2.policies.map((p) => p.learnerId)).toEqual(["", "l1"]);
    const first = await admin().listPolicies({ pageSize: 1 });
    const err = await failure(admin().listPolicies({ tenantId: "t3", pageToken: first.nextPageToken }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect((await failure(admin().listPolicies({ pageSize: 5000 }))).rawMessage).toContain("page_size");
    expect((await failure(admin().listPolicies({ pageToken: "garbage" }))).code).toBe(Code.InvalidArgument);
  });

  it("speaks Connect JSON with the seed's example policy", async () => {
    const res = await connectJson(t.baseUrl, "residency.v1.AdminService/CreatePolicy", {
      policy: {
        tenantId: "acme-edu",
        primaryRegion: "us-east",
        allowedRegions: ["us-west", "ca-central"],
        prohibitedRegions: ["eu-west"],
        complianceFrameworks: ["COMPLIANCE_FRAMEWORK_FERPA", "COMPLIANCE_FRAMEWORK_COPPA"],
        dataClassification: "DATA_CLASSIFICATION_EDUCATIONAL",
        allowCrossRegionFailover: true,
        dataRetentionDays: 2555,
        emergencyContact: "dpo@acme-edu.com",
      },
    }, t.authHeaders);
    expect(res.status).toBe(200);
    expect(res.body.policy.version).toBe("1");
    const bad = await connectJson(t.baseUrl, "residency.v1.AdminService/CreatePolicy", { policy: { tenantId: "" } }, t.authHeaders);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_argument");
    expect(bad.body.message).toContain("tenant_id");
  });
});
