import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import type { ResidencyPolicy } from "../../gen/residency/v1/policy_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { bearer } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
let acmeAdmin: ReturnType<typeof createClient<typeof AdminService>>;
let acmeService: ReturnType<typeof createClient<typeof ResidencyService>>;
let globexPolicy: ResidencyPolicy;
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected the call to fail"); }, (e: unknown) => ConnectError.from(e));

beforeAll(async () => {
  t = await startTestApp({ AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" });
  const root = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  for (const tenantId of ["acme-edu", "globex", "initech"]) {
    const { policy } = await root.createPolicy({ policy: { tenantId, primaryRegion: "us-east" } });
    await root.createPolicy({ policy: { tenantId, learnerId: "s1" } });
    if (tenantId === "globex") globexPolicy = policy!;
  }
  const scoped = (roles: ("policy-admin" | "service")[]) => t.token({ sub: "alice", roles, tenants: ["acme-edu", "initech"] });
  acmeAdmin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [bearer(await scoped(["policy-admin"]))] }));
  acmeService = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [bearer(await scoped(["service"]))] }));
});
afterAll(async () => {
  await t.cleanup();
});

describe("a caller scoped to some tenants", () => {
  it("lists only its tenants' policies when it names none, page by page", async () => {
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await acmeAdmin.listPolicies({ pageSize: 1, pageToken });
      seen.push(...page.policies.map((p) => `${p.tenantId}/${p.learnerId}`));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(["acme-edu/", "acme-edu/s1", "initech/", "initech/s1"]);
    expect((await acmeAdmin.listPolicies({ tenantId: "initech" })).policies).toHaveLength(2);
  });

  it("is refused a listing that names another tenant, whether or not it exists", async () => {
    const existing = await failure(acmeAdmin.listPolicies({ tenantId: "globex" }));
    const missing = await failure(acmeAdmin.listPolicies({ tenantId: "no-such-tenant" }));
    expect(existing.code).toBe(Code.PermissionDenied);
    expect(missing.code).toBe(Code.PermissionDenied);
    expect(existing.rawMessage.replace("globex", "X")).toBe(missing.rawMessage.replace("no-such-tenant", "X"));
  });

  it("gets NOT_FOUND for another tenant's policy by id, exactly as for a missing id", async () => {
    const missingId = "pol_does_not_exist";
    const same = (a: ConnectError, b: ConnectError) => {
      expect(a.code).toBe(Code.NotFound);
      expect(b.code).toBe(Code.NotFound);
      expect(a.rawMessage.replace(globexPolicy.policyId, "ID")).toBe(b.rawMessage.replace(missingId, "ID"));
    };
    same(await failure(acmeAdmin.getPolicy({ policyId: globexPolicy.policyId })), await failure(acmeAdmin.getPolicy({ policyId: missingId })));
    same(
      await failure(acmeAdmin.getPolicy({ policyId: globexPolicy.policyId, version: 1n })),
      await failure(acmeAdmin.getPolicy({ policyId: missingId, version: 1n })),
    );
    same(
      await failure(acmeAdmin.updatePolicy({ policy: { ...globexPolicy, primaryRegion: "us-west" }, expectedVersion: 1n })),
      await failure(acmeAdmin.updatePolicy({ policy: { ...globexPolicy, policyId: missingId, primaryRegion: "us-west" }, expectedVersion: 1n })),
    );
    same(
      await failure(acmeAdmin.deletePolicy({ policyId: globexPolicy.policyId, expectedVersion: 1n })),
      await failure(acmeAdmin.deletePolicy({ policyId: missingId, expectedVersion: 1n })),
    );
    const root = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    expect((await root.getPolicy({ policyId: globexPolicy.policyId })).policy).toMatchObject({ version: 1n, primaryRegion: "us-east" });
  });

  it("may create policies for its tenants only", async () => {
    const err = await failure(acmeAdmin.createPolicy({ policy: { tenantId: "globex", learnerId: "s2" } }));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain('policy.tenant_id "globex"');
    const { policy } = await acmeAdmin.createPolicy({ policy: { tenantId: "acme-edu", learnerId: "s2" } });
    expect(policy?.createdBy).toBe("alice");
  });

  it("is refused decisions for other tenants, existing or not", async () => {
    for (const tenantId of ["globex", "no-such-tenant"]) {
      const err = await failure(acmeService.resolveAccess({ tenantId, operation: Operation.READ }));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toBe(`caller "alice" may not act for tenant_id "${tenantId}": not among the caller's tenants`);
      expect((await failure(acmeService.getEffectivePolicy({ tenantId }))).code).toBe(Code.PermissionDenied);
      expect((await failure(acmeService.presignObjectUrl({ tenantId, operation: Operation.READ, objectKey: "k" }))).code).toBe(Code.PermissionDenied);
    }
    expect((await acmeService.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ })).allowed).toBe(true);
    expect((await acmeService.getEffectivePolicy({ tenantId: "initech", learnerId: "s1" })).effectivePolicy?.primaryRegion).toBe("us-east");
    expect((await acmeService.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.READ, objectKey: "k" })).url).toMatch(/^https:/);
  });

  it("is refused a batch with any item of another tenant, naming the items", async () => {
    const err = await failure(
      acmeService.batchResolveAccess({
        requests: [
          { tenantId: "acme-edu", operation: Operation.READ },
          { tenantId: "globex", operation: Operation.READ },
          { tenantId: "initech", operation: Operation.READ },
          { tenantId: "umbrella", operation: Operation.READ },
        ],
      }),
    );
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toBe(`caller "alice" may not act for requests[1].tenant_id "globex", requests[3].tenant_id "umbrella": not among the caller's tenants`);
    const ok = await acmeService.batchResolveAccess({
      requests: [{ tenantId: "acme-edu", operation: Operation.READ }, { tenantId: "initech", operation: Operation.READ }],
    });
    expect(ok.responses.map((r) => r.allowed)).toEqual([true, true]);
  });

  it("leaves an empty tenant_id to validation (INVALID_ARGUMENT)", async () => {
    expect((await failure(acmeService.resolveAccess({ operation: Operation.READ }))).code).toBe(Code.InvalidArgument);
  });
});

it("a token with no tenants sees nothing", async () => {
  const none = createClient(
    AdminService,
    createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [bearer(await t.token({ sub: "bob", roles: ["policy-admin"], tenants: [] }))] }),
  );
  expect((await none.listPolicies({})).policies).toEqual([]);
  expect((await failure(none.getPolicy({ policyId: globexPolicy.policyId }))).code).toBe(Code.NotFound);
});
