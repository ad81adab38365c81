import { SignJWT } from "jose";
import type { Role } from "./roles.js";

export interface MintTokenInput {
  /** SECRET_KEY. */
  readonly secretKey: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  /** Tenant ids, or ["*"] for every tenant. */
  readonly tenants: readonly string[];
  readonly ttlSeconds: number;
  /** Epoch milliseconds. */
  readonly now: number;
  /** Set `iss` / `aud` so that the token passes JWT_ISSUER / JWT_AUDIENCE. */
  readonly issuer?: string | undefined;
  readonly audience?: readonly string[] | undefined;
}

/** An HS256 token residency accepts: `sub`, `roles`, `tenants`, `iat`, `exp` (and `iss`, `aud` when given). */
export async function mintToken(input: MintTokenInput): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  let jwt = new SignJWT({ roles: [...input.roles], tenants: [...input.tenants] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(input.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + input.ttlSeconds);
  if (input.issuer !== undefined) jwt = jwt.setIssuer(input.issuer);
  if (input.audience !== undefined && input.audience.length > 0) {
    jwt = jwt.setAudience(input.audience.length === 1 ? input.audience[0]! : [...input.audience]);
  }
  return jwt.sign(new TextEncoder().encode(input.secretKey));
}

/** "90", "90s", "15m", "1h", "7d" as seconds; undefined when it is none of these. */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : undefined;
}
