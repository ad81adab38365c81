import { Code, ConnectError } from "@connectrpc/connect";
import type { CertificatePrincipals } from "../auth/load-mtls-principals.js";
import type { Principal } from "../auth/principal.js";
import { TokenRejectedError, VerificationKeysUnavailableError } from "../auth/token-rejected-error.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { VerifiedTokenCache } from "../auth/verified-token-cache.js";
import type { CallContext } from "./call-context.js";

export interface AuthenticateCallOptions {
  readonly verify: TokenVerifier;
  readonly cache: VerifiedTokenCache;
  /** Client-certificate CN → principal (MTLS_PRINCIPALS_FILE); empty when client certificates prove nothing. */
  readonly certificatePrincipals: CertificatePrincipals;
}

/**
 * Who is calling: synchronous when the bearer token is in the cache (the hot path pays a Map lookup), a
 * promise when its signature must be checked. Throws UNAUTHENTICATED naming the check that failed
 * (UNAVAILABLE when a remote JWKS cannot be fetched).
 *
 * A bearer token decides whenever one is sent, even over a mapped client certificate, and a bad token is
 * never rescued by the certificate. Without a token, a verified client certificate whose CN is mapped
 * proves its principal; any other certificate proves nothing.
 */
export type AuthenticateCall = (context: CallContext) => Principal | Promise<Principal>;

const BEARER = /^Bearer +([^\s,]+) *$/i;

export function createCallAuthenticator(options: AuthenticateCallOptions): AuthenticateCall {
  const { verify, cache, certificatePrincipals } = options;

  const verifyAndCache = async (token: string): Promise<Principal> => {
    try {
      const { principal, validUntil } = await verify(token);
      cache.set(token, principal, validUntil);
      return principal;
    } catch (err) {
      if (err instanceof TokenRejectedError) throw new ConnectError(err.message, Code.Unauthenticated);
      if (err instanceof VerificationKeysUnavailableError) throw new ConnectError(err.message, Code.Unavailable);
      throw err;
    }
  };

  // A sidecar opening with many calls at once sends them all before the first verification ends: they share it,
  // rather than each checking the same signature (and, with a JWKS, asking for the same keys).
  const verifying = new Map<string, Promise<Principal>>();
  const verifyOnce = (token: string): Promise<Principal> => {
    let pending = verifying.get(token);
    if (pending === undefined) {
      pending = verifyAndCache(token).finally(() => verifying.delete(token));
      verifying.set(token, pending);
    }
    return pending;
  };

  // A sidecar sends the same header on every call: the token parsed from the last one is reused, so the
  // regex does not run again and the cache lookup hashes a string whose hash is already known.
  let lastHeader: string | undefined;
  let lastToken = "";

  return (context) => {
    const header = context.requestHeader.get("authorization");
    if (header === null) return certificatePrincipal(context, certificatePrincipals);
    let token: string;
    if (header === lastHeader) {
      token = lastToken;
    } else {
      const match = BEARER.exec(header);
      if (match === null) throw new ConnectError("authorization header is not a Bearer token (expected 'Bearer <JWT>')", Code.Unauthenticated);
      token = match[1]!;
      lastHeader = header;
      lastToken = token;
    }
    const cached = cache.get(token);
    if (cached === "expired") throw new ConnectError("token expired", Code.Unauthenticated);
    if (cached !== undefined) return cached.principal;
    return verifyOnce(token);
  };
}

function certificatePrincipal(context: CallContext, principals: CertificatePrincipals): Principal {
  const certificate = principals.size > 0 ? context.peerCertificate : undefined;
  const cn = certificate?.commonName;
  const principal = cn === undefined ? undefined : principals.get(cn);
  if (principal !== undefined) return principal;
  const why = certificate === undefined ? "" : ` (the client certificate${cn === undefined ? " has no single CN" : ` CN "${cn}" is not mapped to a principal`})`;
  throw new ConnectError(`missing authorization header: send 'authorization: Bearer <JWT>'${why}`, Code.Unauthenticated);
}
