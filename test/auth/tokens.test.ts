import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { connectJson } from "../support/connect-json.js";
import { bearer, TEST_SECRET_KEY } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const CLAIMS = { roles: ["service"], tenants: ["*"] };
const now = () => Math.floor(Date.now() / 1000);
const secret = (text: string) => new TextEncoder().encode(text);

/** ListRegions with this authorization header (null: none), on the native listener; the error, if any. */
async function listRegionsWith(url: string, authorization: string | null): Promise<ConnectError | undefined> {
  const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: url }));
  try {
    await client.listRegions({}, authorization === null ? {} : { headers: { authorization } });
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

function hs256(claims: Record<string, unknown>) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" });
}

describe("bearer tokens (HS256 with SECRET_KEY)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.cleanup();
  });
  const refusal = async (authorization: string | null) => {
    const err = await listRegionsWith(t.grpcUrl, authorization);
    expect(err?.code).toBe(Code.Unauthenticated);
    return err!.rawMessage;
  };

  it("accepts a valid token", async () => {
    const token = await hs256({ ...CLAIMS, sub: "svc" }).setExpirationTime(now() + 60).sign(secret(TEST_SECRET_KEY));
    expect(await listRegionsWith(t.grpcUrl, `Bearer ${token}`)).toBeUndefined();
    // The scheme is case-insensitive.
    expect(await listRegionsWith(t.baseUrl, `bearer ${token}`)).toBeUndefined();
  });

  it("says which check failed", async () => {
    const valid = (extra: Record<string, unknown> = {}) => hs256({ ...CLAIMS, sub: "svc", ...extra });
    expect(await refusal(null)).toMatch(/^missing authorization header/);
    expect(await refusal("Basic c3ZjOnB3")).toMatch(/not a Bearer token/);
    expect(await refusal("Bearer not-a-jwt")).toMatch(/^malformed token/);
    expect(await refusal("Bearer a.b.c")).toMatch(/^malformed token/);
    const otherSecret = await valid().setExpirationTime(now() + 60).sign(secret("another-secret-of-at-least-32-bytes-length"));
    expect(await refusal(`Bearer ${otherSecret}`)).toBe("bad signature");
    const expired = await valid().setIssuedAt(now() - 7200).setExpirationTime(now() - 3600).sign(secret(TEST_SECRET_KEY));
    expect(await refusal(`Bearer ${expired}`)).toBe("token expired");
    const early = await valid().setNotBefore(now() + 3600).setExpirationTime(now() + 7200).sign(secret(TEST_SECRET_KEY));
    expect(await refusal(`Bearer ${early}`)).toMatch(/^token not yet valid/);
    const noExp = await valid().sign(secret(TEST_SECRET_KEY));
    expect(await refusal(`Bearer ${noExp}`)).toBe("bad claims: the token has no exp");
    const noSub = await hs256(CLAIMS).setExpirationTime(now() + 60).sign(secret(TEST_SECRET_KEY));
    expect(await refusal(`Bearer ${noSub}`)).toBe("bad claims: the token has no sub");
    const badRoles = await valid({ roles: "service" }).setExpirationTime(now() + 60).sign(secret(TEST_SECRET_KEY));
    expect(await refusal(`Bearer ${badRoles}`)).toBe("bad claims: roles must be an array of strings");
  });

  it("tolerates a little clock skew (JWT_CLOCK_TOLERANCE_SECONDS, 5 s)", async () => {
    const justExpired = await hs256({ ...CLAIMS, sub: "svc" }).setExpirationTime(now() - 2).sign(secret(TEST_SECRET_KEY));
    expect(await listRegionsWith(t.grpcUrl, `Bearer ${justExpired}`)).toBeUndefined();
  });

  it("never accepts alg none, nor an algorithm other than HS256 without a JWKS", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(JSON.stringify({ ...CLAIMS, sub: "mallory", exp: now() + 60 }));
    expect(await refusal(`Bearer ${header}.${payload}.`)).toBe('algorithm not allowed: "none" (accepted: HS256)');
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ ...CLAIMS, sub: "mallory" }).setProtectedHeader({ alg: "RS256" }).setExpirationTime(now() + 60).sign(privateKey);
    expect(await refusal(`Bearer ${rs256}`)).toBe('algorithm not allowed: "RS256" (accepted: HS256)');
  });

  it("answers 401 with the reason over Connect JSON", async () => {
    const res = await connectJson(t.baseUrl, "residency.v1.ResidencyService/ListRegions", {}, { authorization: "Bearer nope" });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: "unauthenticated" });
    expect(res.body.message).toMatch(/^malformed token/);
  });
});

describe("JWT_ISSUER and JWT_AUDIENCE", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_ISSUER: "https://id.example", JWT_AUDIENCE: "residency,residency-staging" });
  });
  afterAll(async () => {
    await t.cleanup();
  });
  const sign = (iss: string | undefined, aud: string | undefined) => {
    let jwt = hs256({ ...CLAIMS, sub: "svc" }).setExpirationTime(now() + 60);
    if (iss !== undefined) jwt = jwt.setIssuer(iss);
    if (aud !== undefined) jwt = jwt.setAudience(aud);
    return jwt.sign(secret(TEST_SECRET_KEY));
  };

  it("accepts the configured issuer and any configured audience", async () => {
    expect(await listRegionsWith(t.grpcUrl, `Bearer ${await sign("https://id.example", "residency-staging")}`)).toBeUndefined();
    // The test app's own tokens carry both.
    expect(await listRegionsWith(t.grpcUrl, `Bearer ${t.adminToken}`)).toBeUndefined();
  });

  it("refuses a wrong or missing iss, then a wrong or missing aud", async () => {
    const message = async (iss: string | undefined, aud: string | undefined) =>
      (await listRegionsWith(t.grpcUrl, `Bearer ${await sign(iss, aud)}`))?.rawMessage;
    expect(await message("https://evil.example", "residency")).toBe("wrong issuer");
    expect(await message(undefined, "residency")).toBe("wrong issuer: the token has no iss");
    expect(await message("https://id.example", "someone-else")).toBe("wrong audience");
    expect(await message("https://id.example", undefined)).toBe("wrong audience: the token has no aud");
  });
});

describe("RS256 and ES256 from a JWKS", () => {
  let dir: string;
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  let jwks: { keys: JWK[] };
  const sign = (alg: "RS256" | "ES256", kid: string, key: CryptoKey, sub = "idp-svc") =>
    new SignJWT({ ...CLAIMS, sub }).setProtectedHeader({ alg, kid }).setExpirationTime(now() + 60).sign(key);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "residency-jwks-"));
    rsa = await generateKeyPair("RS256", { extractable: true });
    ec = await generateKeyPair("ES256", { extractable: true });
    jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
      ],
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("JWT_JWKS_FILE", () => {
    let t: TestApp;
    beforeAll(async () => {
      const file = join(dir, "jwks.json");
      await writeFile(file, JSON.stringify(jwks));
      t = await startTestApp({ JWT_JWKS_FILE: file });
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it("accepts RS256 and ES256 tokens signed by its keys, and HS256 ones signed with SECRET_KEY", async () => {
      expect(await listRegionsWith(t.grpcUrl, `Bearer ${await sign("RS256", "rsa-1", rsa.privateKey)}`)).toBeUndefined();
      expect(await listRegionsWith(t.baseUrl, `Bearer ${await sign("ES256", "ec-1", ec.privateKey)}`)).toBeUndefined();
      expect(await listRegionsWith(t.grpcUrl, `Bearer ${t.adminToken}`)).toBeUndefined();
    });

    it("refuses a key it does not hold, and an HS256 token keyed with the public key", async () => {
      const stranger = await generateKeyPair("RS256");
      const unknown = await listRegionsWith(t.grpcUrl, `Bearer ${await sign("RS256", "rsa-2", stranger.privateKey)}`);
      expect(unknown?.code).toBe(Code.Unauthenticated);
      expect(unknown?.rawMessage).toMatch(/^bad signature/);
      const forgedKid = await listRegionsWith(t.grpcUrl, `Bearer ${await sign("RS256", "rsa-1", stranger.privateKey)}`);
      expect(forgedKid?.rawMessage).toBe("bad signature");
      // The classic confusion attack: the public key (PEM or JWK text) as an HMAC secret.
      for (const publicKeyText of [await exportSPKI(rsa.publicKey), JSON.stringify(jwks.keys[0])]) {
        const confused = await hs256({ ...CLAIMS, sub: "mallory" }).setExpirationTime(now() + 60).sign(secret(publicKeyText));
        expect((await listRegionsWith(t.grpcUrl, `Bearer ${confused}`))?.rawMessage).toBe("bad signature");
      }
      const header = base64url.encode(JSON.stringify({ alg: "none" }));
      const payload = base64url.encode(JSON.stringify({ ...CLAIMS, sub: "mallory", exp: now() + 60 }));
      expect((await listRegionsWith(t.grpcUrl, `Bearer ${header}.${payload}.`))?.rawMessage).toBe(
        'algorithm not allowed: "none" (accepted: HS256, RS256, ES256)',
      );
    });
  });

  describe("JWT_JWKS_URL", () => {
    let server: Server;
    let t: TestApp;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(jwks));
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      t = await startTestApp({ JWT_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` });
    });
    afterAll(async () => {
      await t.cleanup();
      server.close();
    });

    it("fetches the keys and accepts tokens they sign", async () => {
      expect(await listRegionsWith(t.grpcUrl, `Bearer ${await sign("ES256", "ec-1", ec.privateKey)}`)).toBeUndefined();
    });

    it("answers UNAVAILABLE when the JWKS cannot be fetched, and HS256 tokens still work", async () => {
      const unreachable = await startTestApp({ JWT_JWKS_URL: "http://127.0.0.1:9/jwks.json" });
      try {
        const err = await listRegionsWith(unreachable.grpcUrl, `Bearer ${await sign("RS256", "rsa-1", rsa.privateKey)}`);
        expect(err?.code).toBe(Code.Unavailable);
        expect(err?.rawMessage).toContain("JWKS");
        expect(await listRegionsWith(unreachable.grpcUrl, `Bearer ${unreachable.adminToken}`)).toBeUndefined();
      } finally {
        await unreachable.cleanup();
      }
    });
  });
});

it("uses the token's sub as the actor of writes", async () => {
  const t = await startTestApp();
  try {
    const token = await t.token({ sub: "alice@acme", roles: ["policy-admin"], tenants: ["acme-edu"] });
    const { AdminService } = await import("../../gen/residency/v1/admin_service_pb.js");
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [bearer(token)] }));
    const { policy } = await admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
    expect(policy?.createdBy).toBe("alice@acme");
    // The seed's X-User-ID header is not identity.
    const updated = await admin.updatePolicy(
      { policy: { ...policy!, emergencyContact: "dpo@acme.example" }, expectedVersion: 1n },
      { headers: { "x-user-id": "root" } },
    );
    expect(updated.policy?.updatedBy).toBe("alice@acme");
  } finally {
    await t.cleanup();
  }
});
