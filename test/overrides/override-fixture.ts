import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import type { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import type { Role } from "../../src/auth/roles.js";
import type { TestApp } from "../support/start-test-app.js";

export const HOUR = 3_600_000;
/** Tokens outlive the test clock's jumps (a day and more). */
const LONG_TTL = 7 * 24 * 3600;

/**
 * A clock the test moves: real time plus an offset, or pinned to one instant. Handed to createApp, it is what
 * decisions, approvals (expires_at), the sweeper and token checks read.
 */
export function testClock() {
  let offset = 0;
  let pinned: number | undefined;
  return {
    now: () => pinned ?? Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
    pin(at: number | undefined) {
      pinned = at;
    },
  };
}

/** AdminService and ResidencyService clients calling `t` as this principal. */
export async function clientsAs(t: TestApp, sub: string, roles: readonly Role[], tenants: readonly string[] = ["*"]) {
  const token = await t.token({ sub, roles, tenants, ttlSeconds: LONG_TTL });
  const transport = createGrpcTransport({
    baseUrl: t.baseUrl,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ],
  });
  return { admin: createClient(AdminService, transport), residency: createClient(ResidencyService, transport), token };
}

export const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );

/** [field, reason] of every field violation of an INVALID_ARGUMENT. */
export const violationsOf = (err: ConnectError) =>
  err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => [v.field, v.reason] as const));

export const codes = (reasons: readonly { code: ReasonCode }[]) => reasons.map((r) => r.code);

export const REASON = "Critical system failure requires emergency data access";
