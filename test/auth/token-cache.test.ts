import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { createCallAuthenticator } from "../../src/api/authenticate-call.js";
import type { CallContext, PeerCertificate } from "../../src/api/call-context.js";
import type { Principal } from "../../src/auth/principal.js";
import { TokenRejectedError } from "../../src/auth/token-rejected-error.js";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { createVerifiedTokenCache } from "../../src/auth/verified-token-cache.js";

const principal = (subject: string): Principal => ({ subject, roles: new Set(["service"]), tenants: "*", via: "jwt" });

function context(headers: Record<string, string>, peerCertificate?: PeerCertificate): CallContext {
  return {
    requestHeader: { get: (name) => headers[name] ?? null },
    responseHeader: { set() {} },
    signal: new AbortController().signal,
    protocolName: "test",
    peerCertificate,
  };
}

function setup(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  let now = 1_000_000;
  const clock = () => now;
  const verify = vi.fn<TokenVerifier>(async (token) => {
    if (token === "bad") throw new TokenRejectedError("bad_signature", "bad signature");
    return { principal: principal(token), validUntil: 1_000_000 + 60_000 };
  });
  const cache = createVerifiedTokenCache({ clock, ...options });
  const authenticate = createCallAuthenticator({ verify, cache, certificatePrincipals: new Map([["sidecar-1", principal("mtls:sidecar-1")]]) });
  return { authenticate, verify, cache, advance: (ms: number) => (now += ms) };
}

describe("the verified-token cache", () => {
  it("checks a token's signature once; later uses are synchronous Map lookups", async () => {
    const { authenticate, verify } = setup();
    const first = authenticate(context({ authorization: "Bearer tok-a" }));
    expect(first).toBeInstanceOf(Promise);
    expect((await first).subject).toBe("tok-a");
    const second = authenticate(context({ authorization: "Bearer tok-a" }));
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as Principal).subject).toBe("tok-a");
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it("checks a token once when many calls bring it before the first check ends, and refuses them all alike", async () => {
    const { authenticate, verify } = setup();
    const calls = Array.from({ length: 16 }, () => authenticate(context({ authorization: "Bearer tok-a" })));
    expect(calls.every((call) => call instanceof Promise)).toBe(true);
    expect((await Promise.all(calls)).map((p) => p.subject)).toEqual(Array(16).fill("tok-a"));
    expect(verify).toHaveBeenCalledTimes(1);
    const refused = await Promise.allSettled(Array.from({ length: 4 }, () => authenticate(context({ authorization: "Bearer bad" }))));
    expect(refused.map((r) => r.status)).toEqual(Array(4).fill("rejected"));
    expect(verify).toHaveBeenCalledTimes(2);
    // Once settled it is forgotten: a refused token is checked again when it comes back.
    await expect(authenticate(context({ authorization: "Bearer bad" }))).rejects.toThrow(/bad signature/);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it("re-checks exp on every use", async () => {
    const { authenticate, advance, cache } = setup();
    await authenticate(context({ authorization: "Bearer tok-a" }));
    advance(60_000);
    expect(() => authenticate(context({ authorization: "Bearer tok-a" }))).toThrow(new ConnectError("token expired", Code.Unauthenticated));
    expect(cache.size).toBe(0);
  });

  it("evicts the oldest entry when full", async () => {
    const { authenticate, verify, cache } = setup({ maxEntries: 2 });
    for (const token of ["t1", "t2", "t3"]) await authenticate(context({ authorization: `Bearer ${token}` }));
    expect(cache.size).toBe(2);
    expect(authenticate(context({ authorization: "Bearer t3" }))).not.toBeInstanceOf(Promise);
    await authenticate(context({ authorization: "Bearer t1" }));
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it("verifies a cached token again after maxAgeMs (a key removed from a JWKS stops working)", async () => {
    const { authenticate, verify, advance } = setup({ maxAgeMs: 1_000 });
    await authenticate(context({ authorization: "Bearer tok-a" }));
    advance(1_000);
    await authenticate(context({ authorization: "Bearer tok-a" }));
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it("reads every header it is sent, whoever sent the one before", async () => {
    const { authenticate } = setup();
    await authenticate(context({ authorization: "Bearer tok-a" }));
    await authenticate(context({ authorization: "Bearer tok-b" }));
    const subject = (header: string) => (authenticate(context({ authorization: header })) as Principal).subject;
    expect(subject("Bearer tok-a")).toBe("tok-a");
    expect(subject("bearer   tok-b ")).toBe("tok-b");
    expect(() => authenticate(context({ authorization: "Basic tok-b" }))).toThrow(/not a Bearer token/);
    expect(subject("Bearer tok-a")).toBe("tok-a");
    expect(subject("Bearer tok-a")).toBe("tok-a");
  });

  it("does not cache refusals", async () => {
    const { authenticate, verify } = setup();
    for (let i = 0; i < 2; i++) {
      await expect(authenticate(context({ authorization: "Bearer bad" }))).rejects.toThrow(new ConnectError("bad signature", Code.Unauthenticated));
    }
    expect(verify).toHaveBeenCalledTimes(2);
  });
});

describe("client-certificate principals", () => {
  const cert = (commonName: string | undefined): PeerCertificate => ({ commonName, subject: commonName ? { CN: commonName } : {}, fingerprint256: "AA" });

  it("authenticate a mapped CN without a token; the token wins when both are present", async () => {
    const { authenticate } = setup();
    expect((authenticate(context({}, cert("sidecar-1"))) as Principal).subject).toBe("mtls:sidecar-1");
    expect((await authenticate(context({ authorization: "Bearer tok-a" }, cert("sidecar-1")))).subject).toBe("tok-a");
    // A bad token is not rescued by the certificate.
    await expect(authenticate(context({ authorization: "Bearer bad" }, cert("sidecar-1")))).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("give nothing to an unmapped CN", () => {
    const { authenticate } = setup();
    expect(() => authenticate(context({}, cert("stranger")))).toThrow(/CN "stranger" is not mapped/);
    expect(() => authenticate(context({}, cert(undefined)))).toThrow(/has no single CN/);
    expect(() => authenticate(context({}))).toThrow(/^\[unauthenticated\] missing authorization header: send 'authorization: Bearer <JWT>'$/);
  });
});
