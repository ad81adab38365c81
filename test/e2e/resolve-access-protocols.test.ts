import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, PreconditionFailureSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { connectJson } from "../support/connect-json.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
let transports: Record<string, Transport>;

beforeAll(async () => {
  t = await startTestApp();
  transports = {
    "gRPC (HTTP/2)": createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }),
    "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: t.baseUrl, interceptors: [t.auth], httpVersion: "1.1" }),
    "Connect binary (HTTP/2)": createConnectTransport({ baseUrl: t.baseUrl, interceptors: [t.auth], httpVersion: "2", useBinaryFormat: true }),
    "Connect JSON (HTTP/1.1)": createConnectTransport({ baseUrl: t.baseUrl, interceptors: [t.auth], httpVersion: "1.1" }),
    "native gRPC listener": createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }),
  };
  const admin = createClient(AdminService, transports["gRPC (HTTP/2)"]!);
  await admin.createPolicy({
    policy: { tenantId: "acme-edu", primaryRegion: "us-east", allowedRegions: ["us-west"], prohibitedRegions: ["eu-west"] },
  });
});

afterAll(async () => {
  await t.cleanup();
});

describe.each(["gRPC (HTTP/2)", "gRPC-Web (HTTP/1.1)", "Connect binary (HTTP/2)", "Connect JSON (HTTP/1.1)", "native gRPC listener"])(
  "ResolveAccess over %s",
  (name) => {
    const client = () => createClient(ResidencyService, transports[name]!);

    it("allows the primary region and routes to its infrastructure", async () => {
      const res = await client().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ });
      expect(res.allowed).toBe(true);
      expect(res.targetRegion).toBe("us-east");
      expect(res.crossRegion).toBe(false);
      expect(res.infrastructure?.storageBucket).toBe("residency-us-east");
      expect(res.reasons.map((r) => r.code)).toEqual([ReasonCode.PRIMARY_REGION]);
      expect(res.snapshotVersion).toBeGreaterThan(0n);
      expect(res.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("denies a prohibited region with the alternatives", async () => {
      const res = await client().resolveAccess({ tenantId: "acme-edu", operation: Operation.WRITE, requestedRegion: "eu-west" });
      expect(res.allowed).toBe(false);
      expect(res.reasons.map((r) => r.code)).toContain(ReasonCode.REGION_PROHIBITED);
      expect(res.alternativeRegions).toEqual(["us-east", "us-west"]);
    });

    it("answers INVALID_ARGUMENT naming the field for an unknown region", async () => {
      const err = await client()
        .resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "mars-1" })
        .catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage).toContain("requested_region");
      const [detail] = (err as ConnectError).findDetails(BadRequestSchema);
      expect(detail?.fieldViolations.map((v) => [v.field, v.reason])).toEqual([["requested_region", "region_exists"]]);
    });

    it("answers UNIMPLEMENTED for RPCs of later issues", async () => {
      const admin = createClient(AdminService, transports[name]!);
      const err = await admin
        .simulatePolicyChange({})
        .catch((e: unknown) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.Unimplemented);
    });
  },
);

describe("decision edge cases", () => {
  const client = () => createClient(ResidencyService, transports["gRPC (HTTP/2)"]!);

  it("denies NO_POLICY for an unknown tenant (fail closed)", async () => {
    const res = await client().resolveAccess({ tenantId: "nobody", operation: Operation.READ });
    expect(res.allowed).toBe(false);
    expect(res.reasons.map((r) => r.code)).toEqual([ReasonCode.NO_POLICY]);
  });

  it("requires tenant_id and operation, reporting both at once", async () => {
    const err = ConnectError.from(await client().resolveAccess({}).catch((e: unknown) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    const [detail] = err.findDetails(BadRequestSchema);
    expect(detail?.fieldViolations.map((v) => v.field)).toEqual(["tenant_id", "operation"]);
  });

  it("bounds what a request adds to the audit: ids and resource_type 128 characters, resource_id 1,024, all reported at once", async () => {
    const ok = await client().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, resourceType: "t".repeat(128), resourceId: "r".repeat(1024) });
    expect(ok.allowed).toBe(true);
    const err = ConnectError.from(
      await client()
        .resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, resourceType: "t".repeat(129), resourceId: "r".repeat(1025) })
        .catch((e: unknown) => e),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    const [detail] = err.findDetails(BadRequestSchema);
    expect(detail?.fieldViolations.map((v) => [v.field, v.reason])).toEqual([
      ["resource_type", "max_length"],
      ["resource_id", "max_length"],
    ]);
    expect(err.rawMessage).toContain("resource_id is longer than 1024 characters (1025)");
    const ids = ConnectError.from(
      await client()
        .resolveAccess({ tenantId: "t".repeat(129), learnerId: "l".repeat(129), operation: Operation.READ })
        .catch((e: unknown) => e),
    );
    expect(ids.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => [v.field, v.reason])).toEqual([
      ["tenant_id", "max_length"],
      ["learner_id", "max_length"],
    ]);
  });

  it("answers FAILED_PRECONDITION when min_snapshot_version is ahead", async () => {
    const err = ConnectError.from(
      await client().resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, minSnapshotVersion: 1_000_000n }).catch((e: unknown) => e),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("min_snapshot_version");
  });

  it("answers a batch FAILED_PRECONDITION, naming the item, when its min_snapshot_version stays ahead", async () => {
    const err = ConnectError.from(
      await client()
        .batchResolveAccess({
          requests: [
            { tenantId: "acme-edu", operation: Operation.READ },
            { tenantId: "acme-edu", operation: Operation.READ, minSnapshotVersion: 1_000_000n },
          ],
        })
        .catch((e: unknown) => e),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.findDetails(PreconditionFailureSchema)[0]?.violations.map((v) => v.subject)).toEqual(["requests[1].min_snapshot_version"]);
  });

  it("decides a batch in order against one snapshot", async () => {
    const res = await client().batchResolveAccess({
      requests: [
        { tenantId: "acme-edu", operation: Operation.READ },
        { tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "eu-west" },
        { tenantId: "nobody", operation: Operation.READ },
      ],
    });
    expect(res.responses.map((r) => r.allowed)).toEqual([true, false, false]);
    expect(new Set(res.responses.map((r) => r.snapshotVersion))).toEqual(new Set([res.snapshotVersion]));
  });

  it("refuses a batch over 1,000 requests and names the bad item of a batch", async () => {
    const tooMany = Array.from({ length: 1001 }, () => ({ tenantId: "acme-edu", operation: Operation.READ }));
    const err = ConnectError.from(await client().batchResolveAccess({ requests: tooMany }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("1001");
    const bad = ConnectError.from(
      await client()
        .batchResolveAccess({ requests: [{ tenantId: "acme-edu", operation: Operation.READ }, { tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "nowhere" }] })
        .catch((e: unknown) => e),
    );
    expect(bad.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("requests[1].requested_region");
  });

  it("keeps the caller's X-Request-ID and fills caller_region from X-Region (Connect JSON)", async () => {
    const res = await connectJson(
      t.baseUrl,
      "residency.v1.ResidencyService/ResolveAccess",
      { tenantId: "acme-edu", operation: "OPERATION_READ" },
      { ...t.authHeaders, "x-request-id": "req-456", "x-region": "us-east" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-456");
    expect(res.body.allowed).toBe(true);
    const unknownRegion = await connectJson(
      t.baseUrl,
      "residency.v1.ResidencyService/ResolveAccess",
      { tenantId: "acme-edu", operation: "OPERATION_READ" },
      { ...t.authHeaders, "x-region": "atlantis" },
    );
    expect(unknownRegion.status).toBe(400);
    expect(unknownRegion.body.message).toContain("caller_region");
  });

  it("makes up an X-Request-ID when the caller sends none", async () => {
    const res = await connectJson(t.baseUrl, "residency.v1.ResidencyService/ListRegions", {}, t.authHeaders);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.regions).toHaveLength(7);
  });

  it("shows the effective policy and where it came from", async () => {
    const res = await client().getEffectivePolicy({ tenantId: "acme-edu", learnerId: "student-1" });
    expect(res.effectivePolicy?.primaryRegion).toBe("us-east");
    expect(res.effectivePolicy?.learnerId).toBe("student-1");
    expect(res.sources).toHaveLength(1);
    const missing = ConnectError.from(await client().getEffectivePolicy({ tenantId: "nobody" }).catch((e: unknown) => e));
    expect(missing.code).toBe(Code.NotFound);
  });
});
