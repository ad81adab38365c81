import { Writable } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { SignJWT } from "jose";
import { expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { bearer } from "../support/auth.js";
import { connectJson } from "../support/connect-json.js";
import { startTestApp } from "../support/start-test-app.js";

it("logs why a call was refused, with the method and request id, and never a token or its signature", async () => {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString()), done()) });
  const spans = new InMemorySpanExporter();
  const t = await startTestApp({}, undefined, { logger: createLogger("trace", stream), spanExporter: spans });
  const now = Math.floor(Date.now() / 1000);
  const service = await t.token({ sub: "svc", roles: ["service"], tenants: ["acme-edu"] });
  const forged = await new SignJWT({ roles: ["admin"], tenants: ["*"], sub: "mallory" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(now + 60)
    .sign(new TextEncoder().encode("not-the-secret-but-long-enough-to-sign-with"));
  const expired = await new SignJWT({ roles: ["admin"], tenants: ["*"], sub: "old" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(now - 3600)
    .sign(new TextEncoder().encode(t.config.auth.secretKey));
  const tokens = [t.adminToken, service, forged, expired];
  try {
    const residency = (token: string) => createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [bearer(token)] }));
    const admin = (token: string) => createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [bearer(token)] }));
    await residency(t.adminToken).resolveAccess({ tenantId: "acme-edu", operation: Operation.READ }, { headers: { "x-request-id": "ok-1" } });
    await residency(service).resolveAccess({ tenantId: "globex", operation: Operation.READ }).catch(() => undefined);
    await admin(service).listPolicies({}, { headers: { "x-request-id": "denied-1" } }).catch(() => undefined);
    await residency(forged).listRegions({}, { headers: { "x-request-id": "forged-1" } }).catch(() => undefined);
    await residency(expired).listRegions({}).catch(() => undefined);
    await connectJson(t.baseUrl, "residency.v1.AdminService/CreatePolicy", { policy: { tenantId: "" } }, { authorization: `Bearer ${forged}` });
    await connectJson(t.baseUrl, "residency.v1.AdminService/CreatePolicy", { policy: {} }, { authorization: `Basic ${forged}` });
  } finally {
    await t.cleanup();
  }

  const text = chunks.join("");
  const spanText = JSON.stringify(spans.getFinishedSpans().map((s) => ({ attributes: s.attributes, events: s.events, status: s.status })));
  for (const token of tokens) {
    const signature = token.split(".")[2]!;
    expect(text).not.toContain(signature);
    expect(spanText).not.toContain(signature);
  }
  expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/);
  const lines = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toContainEqual(
    expect.objectContaining({
      message: "call refused: unauthenticated",
      procedure: "residency.v1.ResidencyService/ListRegions",
      request_id: "forged-1",
      reason: "bad signature",
    }),
  );
  expect(lines).toContainEqual(expect.objectContaining({ message: "call refused: unauthenticated", reason: "token expired" }));
  expect(lines).toContainEqual(
    expect.objectContaining({
      message: "call refused: permission denied",
      procedure: "residency.v1.AdminService/ListPolicies",
      request_id: "denied-1",
      subject: "svc",
    }),
  );
});
