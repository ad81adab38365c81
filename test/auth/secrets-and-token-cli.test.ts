import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { ConfigError, DEVELOPMENT_SECRET_KEY, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { bearer, TEST_SECRET_KEY } from "../support/auth.js";
import { startTestApp } from "../support/start-test-app.js";

const run = promisify(execFile);

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join("\n");
  }
  throw new Error("expected a ConfigError");
}

describe("SECRET_KEY and the development secret", () => {
  it("uses the development secret when SECRET_KEY is unset, and says so", () => {
    const { auth } = loadConfig({});
    expect(auth.developmentSecret).toBe(true);
    expect(auth.secretKey).toBe(DEVELOPMENT_SECRET_KEY);
    expect(loadConfig({ SECRET_KEY: TEST_SECRET_KEY }).auth).toMatchObject({ developmentSecret: false, secretKey: TEST_SECRET_KEY });
  });

  it("refuses to start on the development secret with NODE_ENV=production", () => {
    expect(problemsOf({ NODE_ENV: "production" })).toMatch(/SECRET_KEY: NODE_ENV=production refuses the built-in development secret/);
    expect(problemsOf({ NODE_ENV: "production", SECRET_KEY: DEVELOPMENT_SECRET_KEY })).toMatch(/refuses the built-in development secret/);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: TEST_SECRET_KEY }).production).toBe(true);
  });

  it("refuses a SECRET_KEY shorter than 32 bytes", () => {
    expect(problemsOf({ SECRET_KEY: "too-short" })).toMatch(/SECRET_KEY: must be at least 32 bytes \(got 9\)/);
    expect(() => loadConfig({ SECRET_KEY: "x".repeat(32) })).not.toThrow();
  });

  it("checks the other auth and TLS settings, by name", () => {
    const text = problemsOf({
      JWT_JWKS_URL: "ftp://keys",
      JWT_JWKS_FILE: "/jwks.json",
      TLS_CERT_FILE: "/cert.pem",
      MTLS_PRINCIPALS_FILE: "/principals.yaml",
      JWT_CLOCK_TOLERANCE_SECONDS: "9999",
    });
    for (const name of ["JWT_JWKS_URL and JWT_JWKS_FILE", "JWT_JWKS_URL=", "TLS_CERT_FILE and TLS_KEY_FILE", "MTLS_PRINCIPALS_FILE", "JWT_CLOCK_TOLERANCE_SECONDS"]) {
      expect(text).toContain(name);
    }
    expect(problemsOf({ TLS_CLIENT_CA_FILE: "/ca.pem" })).toContain("TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE");
    expect(problemsOf({ NODE_ENV: "production", SECRET_KEY: TEST_SECRET_KEY, JWT_JWKS_URL: "http://idp/jwks" })).toContain("https://");
    expect(loadConfig({ JWT_AUDIENCE: "a, b", TLS_CERT_FILE: "/c", TLS_KEY_FILE: "/k" })).toMatchObject({
      auth: { audience: ["a", "b"] },
      tls: { certFile: "/c", keyFile: "/k", clientCaFile: undefined },
    });
  });

  it("logs a loud warning and a working 24 h admin token at start on the development secret", async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString()), done()) });
    const t = await startTestApp({ SECRET_KEY: "" }, undefined, { logger: createLogger("info", stream) });
    try {
      const lines = chunks.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
      expect(lines.some((l) => l.level === "WARN" && /SECRET_KEY IS NOT SET/.test(l.message))).toBe(true);
      const token = lines.find((l) => l.development_admin_token)?.development_admin_token as string;
      const { payload } = await jwtVerify(token, new TextEncoder().encode(DEVELOPMENT_SECRET_KEY));
      expect(payload).toMatchObject({ sub: "dev-admin", roles: ["admin"], tenants: ["*"] });
      expect(payload.exp! - payload.iat!).toBe(24 * 3600);
      const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [bearer(token)] }));
      expect((await client.listRegions({})).regions.length).toBeGreaterThan(0);
    } finally {
      await t.cleanup();
    }
  });

  it("logs no token when SECRET_KEY is set", async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString()), done()) });
    const t = await startTestApp({}, undefined, { logger: createLogger("trace", stream) });
    await t.cleanup();
    expect(chunks.join("")).not.toMatch(/development_admin_token|eyJ/);
  });
});

describe("npm run token", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ["--import", "tsx", "src/cli/mint-token.ts", ...args], {
      env: { ...process.env, SECRET_KEY: TEST_SECRET_KEY, JWT_ISSUER: "", JWT_AUDIENCE: "", NODE_ENV: "", ...env },
      timeout: 20_000,
    });

  it("prints only a token that verifies with SECRET_KEY, with the given claims and lifetime", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { stdout, stderr } = await cli(["--sub", "alice", "--roles", "policy-admin", "--tenants", "acme-edu", "--ttl", "1h"]);
    const token = stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(TEST_SECRET_KEY), { algorithms: ["HS256"] });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toMatchObject({ sub: "alice", roles: ["policy-admin"], tenants: ["acme-edu"] });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(stderr).toContain("token for alice");
  });

  it("sets iss and aud from JWT_ISSUER / JWT_AUDIENCE, takes lists, and refuses unknown roles", async () => {
    const { stdout } = await cli(["--sub", "svc", "--roles", "service,auditor", "--tenants", "a,b", "--ttl", "15m"], {
      JWT_ISSUER: "https://id.example",
      JWT_AUDIENCE: "residency",
    });
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(TEST_SECRET_KEY), { issuer: "https://id.example", audience: "residency" });
    expect(payload).toMatchObject({ roles: ["service", "auditor"], tenants: ["a", "b"] });
    expect(payload.exp! - payload.iat!).toBe(900);
    const refused = await cli(["--sub", "x", "--roles", "root", "--tenants", "*"]).catch((err: { code: number; stderr: string }) => err);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain("unknown role(s): root");
  });

  it("refuses the development secret under NODE_ENV=production", async () => {
    const refused = await cli(["--sub", "x", "--roles", "admin", "--tenants", "*"], { SECRET_KEY: "", NODE_ENV: "production" }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain("SECRET_KEY");
  });

  it("is the package's `token` script", async () => {
    const { readFile } = await import("node:fs/promises");
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.token).toBe("node --import tsx src/cli/mint-token.ts");
  });
});
