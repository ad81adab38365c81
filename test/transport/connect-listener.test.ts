import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { createConnectListener } from "../../src/transport/connect-listener.js";
import { createHealthState } from "../../src/transport/health-state.js";
import { recordingLogger, rejectionOf, testRegistrations } from "./fixtures.js";
import { listenerContract } from "./listener-contract.js";

listenerContract("Connect listener", ({ registrations, health, logger }) =>
  createConnectListener({ registrations, health, logger, host: "127.0.0.1", port: 0, corsAllowedOrigins: [] }),
);

describe("Connect listener", () => {
  const listener = createConnectListener({
    registrations: testRegistrations(),
    health: createHealthState(),
    logger: recordingLogger(),
    host: "127.0.0.1",
    port: 0,
    corsAllowedOrigins: ["https://app.example"],
    httpRoutes: (req, res) => {
      if (req.method !== "GET" || req.url !== "/health") return false;
      res.statusCode = 200;
      res.end("ok");
      return true;
    },
  });
  let baseUrl = "";

  beforeAll(async () => {
    const { port } = await listener.start();
    baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(() => listener.stop(1_000));

  it("serves gRPC-Web over HTTP/1.1", async () => {
    const client = createClient(ResidencyService, createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
    expect((await client.listRegions({})).regions[0]?.id).toBe("eu-west");
    expect((await client.resolveAccess({ tenantId: "t1" })).decisionId).toBe("grpc-web");
  });

  it("serves Connect JSON over HTTP/1.1 to a plain fetch", async () => {
    const res = await fetch(`${baseUrl}/residency.v1.ResidencyService/ListRegions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ regions: [{ id: "eu-west" }] });
  });

  it("serves Connect binary over HTTP/2", async () => {
    const transport = createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
    const client = createClient(ResidencyService, transport);
    expect((await client.listRegions({})).regions[0]?.id).toBe("eu-west");
    expect((await client.resolveAccess({ tenantId: "t1" })).decisionId).toBe("connect");
  });

  it("sends error details over Connect JSON too", async () => {
    const client = createClient(ResidencyService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const error = await rejectionOf(client.resolveAccess({}));
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: "tenant_id: required" });
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("tenant_id");
  });

  it("answers CORS preflight for an allowed origin", async () => {
    const res = await fetch(`${baseUrl}/residency.v1.ResidencyService/ResolveAccess`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-region",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = res.headers.get("access-control-allow-headers")?.toLowerCase() ?? "";
    for (const header of ["content-type", "connect-protocol-version", "authorization", "x-request-id", "x-region"]) {
      expect(allowed).toContain(header);
    }
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("refuses CORS preflight for another origin", async () => {
    const res = await fetch(`${baseUrl}/residency.v1.ResidencyService/ResolveAccess`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds CORS headers to the actual call", async () => {
    const res = await fetch(`${baseUrl}/residency.v1.ResidencyService/ListRegions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://app.example" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
  });

  it("hands plain HTTP paths to httpRoutes and answers 404 for unknown ones", async () => {
    const health = await fetch(`${baseUrl}/health`);
    expect(await health.text()).toBe("ok");
    expect((await fetch(`${baseUrl}/nothing/here`)).status).toBe(404);
  });
});
