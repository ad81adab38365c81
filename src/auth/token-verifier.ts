import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWSAlgorithm,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { tenantScope, type Principal } from "./principal.js";
import { isRole, type Role } from "./roles.js";
import { TokenRejectedError, VerificationKeysUnavailableError } from "./token-rejected-error.js";

/** A verified token: who it names, and until when (epoch ms, the clock tolerance included). */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly validUntil: number;
}

/** Where the public keys of RS256 / ES256 tokens come from, if anywhere. */
export type JwksSource = { readonly url: string } | { readonly keys: JSONWebKeySet };

export interface TokenVerifierOptions {
  /** The HS256 key (SECRET_KEY). HS256 tokens are only ever checked with it, never with a public key. */
  readonly secretKey: string;
  /** Set: RS256 and ES256 tokens are accepted too, checked with these keys only. */
  readonly jwks: JwksSource | undefined;
  readonly issuer: string | undefined;
  readonly audience: readonly string[] | undefined;
  readonly clockToleranceSeconds: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

const SYMMETRIC: JWSAlgorithm = "HS256";
const ASYMMETRIC: readonly JWSAlgorithm[] = ["RS256", "ES256"];

/**
 * Checks a bearer JWT with jose: the algorithm is pinned (HS256 with SECRET_KEY; RS256 / ES256 from the
 * JWKS when one is configured; `alg: none` never), then signature, `exp` (required), `nbf`, `iss` and
 * `aud` when configured, with a small clock tolerance; then the claims residency reads: `sub`
 * (required), `roles` and `tenants` (arrays of strings). Throws TokenRejectedError naming the failed
 * check, or VerificationKeysUnavailableError when a remote JWKS cannot be fetched.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const secret = new TextEncoder().encode(options.secretKey);
  const jwks =
    options.jwks === undefined
      ? undefined
      : "url" in options.jwks
        ? createRemoteJWKSet(new URL(options.jwks.url))
        : createLocalJWKSet(options.jwks.keys);
  const algorithms: JWSAlgorithm[] = jwks === undefined ? [SYMMETRIC] : [SYMMETRIC, ...ASYMMETRIC];
  const remote = options.jwks !== undefined && "url" in options.jwks;

  const getKey: JWTVerifyGetKey<CryptoKey | Uint8Array> = async (header, token) => {
    // jose has already refused any algorithm outside `algorithms`, so a public key is never an HMAC secret.
    if (header.alg === SYMMETRIC || jwks === undefined) return secret;
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || !remote) throw err;
      throw new VerificationKeysUnavailableError(`the JWKS at JWT_JWKS_URL could not be fetched: ${(err as Error).message}`);
    }
  };

  const verifyOptions = {
    algorithms,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["exp", "sub"],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: [...options.audience] }),
  };

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, { ...verifyOptions, currentDate: new Date(options.clock()) }));
    } catch (err) {
      throw rejection(err, token, algorithms);
    }
    return {
      principal: principalFromClaims(payload),
      validUntil: (payload.exp ?? 0) * 1000 + options.clockToleranceSeconds * 1000,
    };
  };
}

function principalFromClaims(payload: JWTPayload): Principal {
  const { sub } = payload;
  if (typeof sub !== "string" || sub.trim() === "") throw new TokenRejectedError("bad_claims", "bad claims: sub must be a non-empty string");
  const roles = stringList(payload.roles, "roles").filter(isRole) as Role[];
  return { subject: sub, roles: new Set(roles), tenants: tenantScope(stringList(payload.tenants, "tenants")), via: "jwt" };
}

function stringList(value: unknown, claim: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TokenRejectedError("bad_claims", `bad claims: ${claim} must be an array of strings`);
  }
  return value as string[];
}

/** What jose threw, as the check that failed. Messages describe the check, never echo the token. */
function rejection(err: unknown, token: string, algorithms: readonly string[]): Error {
  if (err instanceof TokenRejectedError || err instanceof VerificationKeysUnavailableError) return err;
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenRejectedError(
      "algorithm_not_allowed",
      `algorithm not allowed: ${JSON.stringify(algorithmOf(token))} (accepted: ${algorithms.join(", ")})`,
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejectedError("bad_signature", "bad signature");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejectedError("bad_signature", "bad signature: no single key of the JWKS matches the token's kid and alg");
  }
  if (err instanceof errors.JWTExpired) return new TokenRejectedError("expired", "token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return new TokenRejectedError("not_yet_valid", "token not yet valid (nbf is in the future)");
    if (err.claim === "iss") {
      return new TokenRejectedError("wrong_issuer", err.reason === "missing" ? "wrong issuer: the token has no iss" : "wrong issuer");
    }
    if (err.claim === "aud") {
      return new TokenRejectedError("wrong_audience", err.reason === "missing" ? "wrong audience: the token has no aud" : "wrong audience");
    }
    if (err.reason === "missing") return new TokenRejectedError("bad_claims", `bad claims: the token has no ${err.claim}`);
    return new TokenRejectedError("bad_claims", `bad claims: ${err.claim} is invalid`);
  }
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return new VerificationKeysUnavailableError(`the JWKS could not be used: ${err.message}`);
  }
  return new TokenRejectedError("malformed", "malformed token: not a signed JWT in compact form");
}

function algorithmOf(token: string): string {
  try {
    // The header is the caller's text: quote a bounded piece of it.
    return String(decodeProtectedHeader(token).alg ?? "").slice(0, 32);
  } catch {
    return "";
  }
}
