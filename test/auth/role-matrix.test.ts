import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { METHOD_ROLES } from "../../src/api/method-roles.js";
import { ROLES, type Role } from "../../src/auth/roles.js";
import { bearer } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const SERVICES: readonly DescService[] = [ResidencyService, AdminService, AuditService];
const METHODS: readonly DescMethod[] = SERVICES.flatMap((s) => s.methods);
const nameOf = (m: DescMethod) => `${m.parent.name}/${m.name}`;

/** Written from the issue, independently of METHOD_ROLES: what each role may call. */
const ALLOWED: Record<Role, readonly string[]> = {
  service: [
    "ResidencyService/ResolveAccess",
    "ResidencyService/BatchResolveAccess",
    "ResidencyService/GetEffectivePolicy",
    "ResidencyService/PresignObjectUrl",
    "ResidencyService/ListRegions",
  ],
  "policy-admin": [
    "AdminService/CreatePolicy",
    "AdminService/GetPolicy",
    "AdminService/ListPolicies",
    "AdminService/UpdatePolicy",
    "AdminService/DeletePolicy",
    "AdminService/SimulatePolicyChange",
    "ResidencyService/ListRegions",
  ],
  auditor: [
    "AuditService/ListAccessLogs",
    "AuditService/ListViolations",
    "AuditService/VerifyAuditChain",
    "AuditService/StreamAuditEvents",
    "ResidencyService/ListRegions",
  ],
  "emergency-requester": ["AdminService/RequestEmergencyOverride", "AdminService/ListEmergencyOverrides", "ResidencyService/ListRegions"],
  "emergency-approver": [
    "AdminService/ApproveEmergencyOverride",
    "AdminService/RevokeEmergencyOverride",
    "AdminService/ListEmergencyOverrides",
    "ResidencyService/ListRegions",
  ],
  "region-operator": ["AdminService/SetRegionStatus", "ResidencyService/ListRegions"],
  admin: METHODS.map(nameOf),
};

/**
 * Calls a method with an empty request; undefined when it succeeded. A stream that has passed auth may wait
 * for events: its deadline ends it (DEADLINE_EXCEEDED, which counts as let through).
 */
async function call(transport: Transport, method: DescMethod): Promise<ConnectError | undefined> {
  const client = createClient(method.parent, transport) as unknown as Record<string, (request: object, options: object) => unknown>;
  try {
    const result = client[method.localName]!({}, method.methodKind === "server_streaming" ? { timeoutMs: 1_000 } : {});
    if (method.methodKind === "server_streaming") {
      for await (const _ of result as AsyncIterable<unknown>) break;
    } else {
      await result;
    }
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

const passedAuth = (err: ConnectError | undefined) =>
  err === undefined || (err.code !== Code.Unauthenticated && !(err.code === Code.PermissionDenied && /needs role/.test(err.rawMessage)));

describe("the method → roles table", () => {
  it("lists every method of the three services, and nothing else", () => {
    const listed = Object.entries(METHOD_ROLES).flatMap(([service, methods]) => Object.keys(methods).map((m) => `${service}/${m}`));
    expect(listed.sort()).toEqual(METHODS.map((m) => m.parent.typeName + "/" + m.name).sort());
  });
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.cleanup();
});

describe.each(["Connect listener", "native gRPC listener"])("every role × every RPC on the %s", (listener) => {
  const url = () => (listener === "Connect listener" ? t.baseUrl : t.grpcUrl);

  it.each([...ROLES])("%s may call exactly its methods; the others are PERMISSION_DENIED naming the role", async (role) => {
    const transport = createGrpcTransport({ baseUrl: url(), interceptors: [bearer(await t.token({ sub: `as-${role}`, roles: [role], tenants: ["*"] }))] });
    const wrong: string[] = [];
    for (const method of METHODS) {
      const err = await call(transport, method);
      const allowed = ALLOWED[role].includes(nameOf(method));
      if (allowed && !passedAuth(err)) wrong.push(`${nameOf(method)} refused: [${Code[err!.code]}] ${err!.rawMessage}`);
      if (!allowed) {
        if (err?.code !== Code.PermissionDenied) wrong.push(`${nameOf(method)} not refused: ${err ? Code[err.code] : "OK"}`);
        else if (!err.rawMessage.includes("needs role") || !err.rawMessage.includes(`as-${role}`)) wrong.push(`${nameOf(method)}: ${err.rawMessage}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("answers every RPC UNAUTHENTICATED without a token, implemented or not", async () => {
    const transport = createGrpcTransport({ baseUrl: url() });
    const wrong: string[] = [];
    for (const method of METHODS) {
      const err = await call(transport, method);
      if (err?.code !== Code.Unauthenticated) wrong.push(`${nameOf(method)}: ${err ? Code[err.code] : "OK"}`);
    }
    expect(wrong).toEqual([]);
  });

  it("refuses a token without a known role everywhere, even ListRegions", async () => {
    const transport = createGrpcTransport({ baseUrl: url(), interceptors: [bearer(await t.token({ sub: "nobody", roles: [], tenants: ["*"] }))] });
    const err = await call(transport, ResidencyService.method.listRegions);
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(err?.rawMessage).toContain('caller "nobody" has no known role');
  });
});

it("names the needed role in the message", async () => {
  const transport = createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [bearer(await t.token({ sub: "svc", roles: ["service"], tenants: ["*"] }))] });
  const err = await call(transport, AdminService.method.createPolicy);
  expect(err?.rawMessage).toBe('residency.v1.AdminService/CreatePolicy needs role policy-admin (or admin); caller "svc" has role(s) service');
});
