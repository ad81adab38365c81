import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMtlsPrincipals } from "../../src/auth/load-mtls-principals.js";
import { loadJwksFile } from "../../src/auth/load-jwks-file.js";
import { ConfigError } from "../../src/config.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "residency-principals-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("MTLS_PRINCIPALS_FILE", () => {
  it("maps CNs to principals, from YAML or JSON", async () => {
    const yaml = await loadMtlsPrincipals(await file("p.yaml", "principals:\n  sidecar-1:\n    roles: [service]\n    tenants: ['*']\n"));
    expect(yaml.get("sidecar-1")).toEqual({ subject: "mtls:sidecar-1", roles: new Set(["service"]), tenants: "*", via: "mtls" });
    const json = await loadMtlsPrincipals(await file("p.json", JSON.stringify({ principals: { ops: { roles: ["region-operator"], tenants: [] } } })));
    expect(json.get("ops")?.tenants).toEqual(new Set());
  });

  it("refuses unknown roles, a principal without roles and a malformed file, naming each problem", async () => {
    const err = await loadMtlsPrincipals(
      await file("bad.yaml", "principals:\n  a:\n    roles: [root]\n  b:\n    tenants: [x]\n  c:\n    roles: service\n"),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).problems.join("\n");
    expect(text).toContain("principals.a.roles: unknown role(s) root");
    expect(text).toContain("principals.b.roles: must name at least one role");
    expect(text).toContain("principals.c.roles: must be a list");
    await expect(loadMtlsPrincipals(await file("empty.yaml", "other: 1\n"))).rejects.toThrow(/principals: must be a mapping/);
    await expect(loadMtlsPrincipals(join(dir, "missing.yaml"))).rejects.toThrow(/MTLS_PRINCIPALS_FILE/);
  });
});

describe("JWT_JWKS_FILE", () => {
  it("refuses anything but a key set of public keys", async () => {
    await expect(loadJwksFile(await file("no-keys.json", "{}"))).rejects.toThrow(/must be a JSON Web Key Set/);
    await expect(loadJwksFile(await file("private.json", JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", d: "x" }] })))).rejects.toThrow(
      /private key material/,
    );
    await expect(loadJwksFile(await file("broken.json", "{"))).rejects.toThrow(/JWT_JWKS_FILE/);
  });
});
