import type { Interceptor } from "@connectrpc/connect";
import { mintToken } from "../../src/auth/mint-token.js";
import type { Role } from "../../src/auth/roles.js";

/** The SECRET_KEY startTestApp gives the app unless a test sets its own. */
export const TEST_SECRET_KEY = "residency-test-secret-key-0123456789-abcdefghij";

/** The subject of the admin token every test app hands out. */
export const TEST_ADMIN_SUBJECT = "test-admin";

export interface TokenClaims {
  readonly sub: string;
  readonly roles: readonly Role[];
  readonly tenants: readonly string[];
  /** @default 3600 */
  readonly ttlSeconds?: number;
}

/** An HS256 token signed with `secretKey`. */
export function tokenFor(claims: TokenClaims, secretKey = TEST_SECRET_KEY, extra: { issuer?: string; audience?: readonly string[] } = {}): Promise<string> {
  return mintToken({
    secretKey,
    subject: claims.sub,
    roles: claims.roles,
    tenants: claims.tenants,
    ttlSeconds: claims.ttlSeconds ?? 3600,
    now: Date.now(),
    issuer: extra.issuer,
    audience: extra.audience,
  });
}

/** A Connect interceptor that sends `authorization: Bearer <token>` on every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
