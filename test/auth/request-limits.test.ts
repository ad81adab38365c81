import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { connectJson } from "../support/connect-json.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const LIMIT = 2048;
let t: TestApp;
let transports: Record<string, Transport>;

beforeAll(async () => {
  t = await startTestApp({ MAX_REQUEST_BYTES: String(LIMIT) });
  const interceptors = [t.auth];
  transports = {
    "gRPC on the Connect listener": createGrpcTransport({ baseUrl: t.baseUrl, interceptors }),
    "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: t.baseUrl, httpVersion: "1.1", interceptors }),
    "Connect binary (HTTP/2)": createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors }),
    "Connect JSON (HTTP/1.1)": createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1", interceptors }),
    "native gRPC listener": createGrpcTransport({ baseUrl: t.grpcUrl, interceptors }),
  };
});
afterAll(async () => {
  await t.cleanup();
});

describe.each(["gRPC on the Connect listener", "gRPC-Web (HTTP/1.1)", "Connect binary (HTTP/2)", "Connect JSON (HTTP/1.1)", "native gRPC listener"])(
  "MAX_REQUEST_BYTES over %s",
  (name) => {
    it("refuses a larger request with RESOURCE_EXHAUSTED and a message that says so", async () => {
      const client = createClient(ResidencyService, transports[name]!);
      const err = await client
        .resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, resourceId: "x".repeat(LIMIT * 2) })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code).toBe(Code.ResourceExhausted);
      expect(err?.rawMessage).toMatch(/larger than|exceeds|max/i);
      expect(err?.rawMessage).toContain(String(LIMIT));
    });

    it("serves a request under the limit", async () => {
      const client = createClient(ResidencyService, transports[name]!);
      const res = await client.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, resourceId: "x".repeat(LIMIT / 2) });
      expect(res.allowed).toBe(false);
    });
  },
);

it("answers plain Connect JSON (curl) with resource_exhausted, HTTP 429", async () => {
  const res = await connectJson(
    t.baseUrl,
    "residency.v1.ResidencyService/ResolveAccess",
    { tenantId: "acme-edu", operation: "OPERATION_READ", resourceId: "y".repeat(LIMIT * 2) },
    t.authHeaders,
  );
  expect(res.status).toBe(429);
  expect(res.body.code).toBe("resource_exhausted");
});
