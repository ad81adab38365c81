import { writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/health/v1/health_pb.js";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { bearer } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/test-pki.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki?.cleanup();
});

/** How a client sees a connection the server closed without answering (never an application code). */
const TRANSPORT_FAILURES = [Code.Canceled, Code.Unavailable, Code.Internal];
const https = (url: string) => url.replace("http://", "https://");
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected the call to fail"); }, (e: unknown) => ConnectError.from(e));

interface ClientTls {
  readonly client?: CertificateFiles;
  readonly interceptors?: Interceptor[];
}

/** gRPC over TLS (HTTP/2, ALPN h2) trusting the test CA, with an optional client certificate. */
function grpcTls(url: string, options: ClientTls = {}): Transport {
  const { client, interceptors = [] } = options;
  return createGrpcTransport({
    baseUrl: https(url),
    interceptors,
    nodeOptions: { ca: pki.ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) },
  });
}

/** Connect JSON over HTTPS/1.1 (ALPN http/1.1), the way a browser or curl talks. */
function connectHttp1Tls(url: string, options: ClientTls = {}): Transport {
  const { client, interceptors = [] } = options;
  return createConnectTransport({
    baseUrl: https(url),
    httpVersion: "1.1",
    interceptors,
    nodeOptions: { ca: pki.ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) },
  });
}

describe("TLS on both listeners", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TLS_CERT_FILE: pki.server.certFile, TLS_KEY_FILE: pki.server.keyFile });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it.each(["baseUrl", "grpcUrl"] as const)("serves gRPC over TLS on %s", async (which) => {
    const client = createClient(ResidencyService, grpcTls(t[which], { interceptors: [t.auth] }));
    expect((await client.listRegions({})).regions.length).toBeGreaterThan(0);
    expect((await createClient(Health, grpcTls(t[which])).check({})).status).toBeGreaterThan(0);
  });

  it("serves Connect over HTTPS/1.1 on the Connect listener (ALPN), and the health routes", async () => {
    const client = createClient(ResidencyService, connectHttp1Tls(t.baseUrl, { interceptors: [t.auth] }));
    expect((await client.resolveAccess({ tenantId: "nobody", operation: Operation.READ })).allowed).toBe(false);
    const unauthenticated = await failure(createClient(ResidencyService, connectHttp1Tls(t.baseUrl)).listRegions({}));
    expect(unauthenticated.code).toBe(Code.Unauthenticated);
    // A client that offers no ALPN at all (Node's https) speaks HTTP/1.1.
    const health = await new Promise<number>((resolve, reject) =>
      httpsGet(`${https(t.baseUrl)}/health`, { ca: pki.ca.cert }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject),
    );
    expect(health).toBe(200);
    const negotiated = (ALPNProtocols: string[]) =>
      new Promise<string | false | null>((resolve, reject) => {
        const socket = tlsConnect({ host: "127.0.0.1", port: Number(new URL(t.baseUrl).port), ca: pki.ca.cert, ALPNProtocols }, () => {
          resolve(socket.alpnProtocol);
          socket.destroy();
        }).on("error", reject);
      });
    expect(await negotiated(["h2", "http/1.1"])).toBe("h2");
    expect(await negotiated(["http/1.1"])).toBe("http/1.1");
  });

  it.each(["baseUrl", "grpcUrl"] as const)("refuses cleartext on %s", async (which) => {
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t[which], interceptors: [t.auth] }));
    const err = await failure(client.listRegions({}, { timeoutMs: 3_000 }));
    // The TLS server drops the connection: no HTTP/2 answer at all.
    expect(TRANSPORT_FAILURES).toContain(err.code);
  });

  it.each(["baseUrl", "grpcUrl"] as const)("refuses a client that does not trust the server's CA on %s", async (which) => {
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: https(t[which]), interceptors: [t.auth] }));
    const err = await failure(client.listRegions({}));
    expect(err.rawMessage).toContain("unable to verify the first certificate");
  });
});

describe("mTLS on both listeners", () => {
  let t: TestApp;
  let sidecar: CertificateFiles;
  let stranger: CertificateFiles;
  let foreign: CertificateFiles;
  beforeAll(async () => {
    [sidecar, stranger, foreign] = await Promise.all([pki.client("sidecar-1"), pki.client("stranger"), pki.foreignClient("sidecar-1")]);
    const principals = join(pki.dir, "principals.yaml");
    await writeFile(principals, "principals:\n  sidecar-1:\n    roles: [service]\n    tenants: [acme-edu]\n");
    t = await startTestApp({
      TLS_CERT_FILE: pki.server.certFile,
      TLS_KEY_FILE: pki.server.keyFile,
      TLS_CLIENT_CA_FILE: pki.ca.certFile,
      MTLS_PRINCIPALS_FILE: principals,
    });
    const admin = createClient(AdminService, grpcTls(t.baseUrl, { client: stranger, interceptors: [t.auth] }));
    await admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east" } });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  describe.each(["baseUrl", "grpcUrl"] as const)("on %s", (which) => {
    it("refuses a client without a certificate, or with one from another CA, at the handshake", async () => {
      const withoutCertificate = await failure(createClient(ResidencyService, grpcTls(t[which], { interceptors: [t.auth] })).listRegions({}));
      expect(withoutCertificate.rawMessage).toContain("certificate required");
      // TLS 1.3: the client finishes its side of the handshake before the server refuses its certificate.
      const foreignCa = await failure(createClient(ResidencyService, grpcTls(t[which], { client: foreign, interceptors: [t.auth] })).listRegions({}));
      expect(TRANSPORT_FAILURES).toContain(foreignCa.code);
    });

    it("authorizes a mapped client certificate without a token, within its roles and tenants", async () => {
      const client = createClient(ResidencyService, grpcTls(t[which], { client: sidecar }));
      expect((await client.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ })).allowed).toBe(true);
      const otherTenant = await failure(client.resolveAccess({ tenantId: "globex", operation: Operation.READ }));
      expect(otherTenant.code).toBe(Code.PermissionDenied);
      expect(otherTenant.rawMessage).toContain('caller "mtls:sidecar-1"');
      const admin = createClient(AdminService, grpcTls(t[which], { client: sidecar }));
      expect((await failure(admin.listPolicies({}))).code).toBe(Code.PermissionDenied);
    });

    it("gives nothing to a verified certificate whose CN is not mapped: the JWT is still required", async () => {
      const err = await failure(createClient(ResidencyService, grpcTls(t[which], { client: stranger })).listRegions({}));
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toContain('CN "stranger" is not mapped');
      const withToken = createClient(ResidencyService, grpcTls(t[which], { client: stranger, interceptors: [t.auth] }));
      expect((await withToken.listRegions({})).regions.length).toBeGreaterThan(0);
    });

    it("uses the JWT when a call carries both a mapped certificate and a token", async () => {
      const token = await t.token({ sub: "carol", roles: ["policy-admin"], tenants: ["acme-edu"] });
      const admin = createClient(AdminService, grpcTls(t[which], { client: sidecar, interceptors: [bearer(token)] }));
      const { policies } = await admin.listPolicies({});
      expect(policies.map((p) => p.tenantId)).toEqual(["acme-edu"]);
      // As the JWT's principal (policy-admin), not the certificate's (service).
      const residency = createClient(ResidencyService, grpcTls(t[which], { client: sidecar, interceptors: [bearer(token)] }));
      expect((await failure(residency.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ }))).code).toBe(Code.PermissionDenied);
      // A bad token is not rescued by the certificate.
      const bad = createClient(ResidencyService, grpcTls(t[which], { client: sidecar, interceptors: [bearer("garbage")] }));
      expect((await failure(bad.listRegions({}))).code).toBe(Code.Unauthenticated);
    });
  });

  it("hands the certificate to handlers over HTTPS/1.1 too (Connect listener)", async () => {
    const client = createClient(ResidencyService, connectHttp1Tls(t.baseUrl, { client: sidecar }));
    expect((await client.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ })).allowed).toBe(true);
  });
});
