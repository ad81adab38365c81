import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService, type ResolveAccessRequestSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { AgeBand, ComplianceFramework, DataClassification, Operation } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

// The native listener encodes answers its own way (api/resolve-access-encoding.ts) and decodes requests
// its own way (transport/flat-message-decoder.ts); whatever it answers must be what the Connect listener
// answers, and both must return the caller's X-Request-ID (or a new one).

let t: TestApp;
let connect: Transport;
let native: Transport;

beforeAll(async () => {
  t = await startTestApp();
  connect = createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] });
  native = createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] });
  const admin = createClient(AdminService, connect);
  await admin.createPolicy({
    policy: { tenantId: "acme-edu", primaryRegion: "us-east", allowedRegions: ["us-west", "ca-central"], prohibitedRegions: ["eu-west"], complianceFrameworks: [ComplianceFramework.FERPA] },
  });
  await admin.createPolicy({ policy: { tenantId: "acme-edu", learnerId: "kid", ageBand: AgeBand.UNDER_13, dataRetentionDays: 200 } });
  await admin.createPolicy({ policy: { tenantId: "eu-school", primaryRegion: "eu-west", complianceFrameworks: [ComplianceFramework.GDPR] } });
});

afterAll(async () => {
  await t.cleanup();
});

const REQUESTS: MessageInitShape<typeof ResolveAccessRequestSchema>[] = [];
for (const [tenantId, learnerId] of [["acme-edu", ""], ["acme-edu", "kid"], ["eu-school", ""], ["nobody", ""]]) {
  for (const requestedRegion of ["", "us-west", "eu-west", "ca-central", "apac-east"]) {
    for (const operation of [Operation.READ, Operation.INFERENCE]) {
      for (const dataClassification of [DataClassification.UNSPECIFIED, DataClassification.PUBLIC]) {
        REQUESTS.push({ tenantId: tenantId!, learnerId: learnerId!, requestedRegion, operation, dataClassification, resourceId: "doc-1" });
      }
    }
  }
}

describe("the native listener's ResolveAccess", () => {
  it("answers every request as the Connect listener does, the decision id and time aside", async () => {
    const viaConnect = createClient(ResidencyService, connect);
    const viaNative = createClient(ResidencyService, native);
    for (const request of REQUESTS) {
      // Twice: the second answer of a decision shape comes from the cached encoding.
      for (let round = 0; round < 2; round++) {
        const [a, b] = await Promise.all([viaConnect.resolveAccess(request), viaNative.resolveAccess(request)]);
        expect(b.decisionId).not.toBe(a.decisionId);
        expect(b.decideTime).toBeDefined();
        expect({ ...b, decisionId: "", decideTime: undefined }).toEqual({ ...a, decisionId: "", decideTime: undefined });
      }
    }
  });
});

describe.each([
  ["native gRPC listener", () => createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] })],
  ["gRPC (HTTP/2)", () => createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] })],
  ["gRPC-Web (HTTP/1.1)", () => createGrpcWebTransport({ baseUrl: t.baseUrl, interceptors: [t.auth], httpVersion: "1.1" })],
  ["Connect binary (HTTP/2)", () => createConnectTransport({ baseUrl: t.baseUrl, interceptors: [t.auth], httpVersion: "2", useBinaryFormat: true })],
])("X-Request-ID over %s", (_name, transport) => {
  const headerOf = async (headers: Record<string, string>): Promise<string | null> => {
    let id: string | null = null;
    await createClient(ResidencyService, transport()).resolveAccess(
      { tenantId: "acme-edu", operation: Operation.READ },
      { headers, onHeader: (h) => (id = h.get("x-request-id")) },
    );
    return id;
  };

  it("returns the caller's", async () => {
    expect(await headerOf({ "x-request-id": "req-789" })).toBe("req-789");
  });

  it("makes one up when the caller sends none or an unusable one", async () => {
    const made = await headerOf({});
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect(await headerOf({})).not.toBe(made);
    expect(await headerOf({ "x-request-id": "has space" })).toMatch(/^[0-9a-f-]{36}$/);
  });
});
