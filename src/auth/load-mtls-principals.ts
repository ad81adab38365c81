import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../config.js";
import { tenantScope, type Principal } from "./principal.js";
import { isRole, ROLES, type Role } from "./roles.js";

/** Client-certificate subject CN → the principal such a certificate proves. */
export type CertificatePrincipals = ReadonlyMap<string, Principal>;

/**
 * Reads MTLS_PRINCIPALS_FILE (JSON, or YAML for any other extension):
 *
 * ```yaml
 * principals:
 *   decision-sidecar.acme-edu:   # subject CN of a client certificate signed by TLS_CLIENT_CA_FILE
 *     roles: [service]
 *     tenants: [acme-edu]        # or ["*"]
 * ```
 *
 * A certificate whose CN is not listed proves nothing (the caller still needs a JWT). Unknown roles are
 * refused here, unlike in tokens, because this file is the operator's own configuration. Every problem is
 * reported at once.
 */
export async function loadMtlsPrincipals(file: string): Promise<CertificatePrincipals> {
  const fail = (problems: string[]) => new ConfigError(problems.map((p) => `MTLS_PRINCIPALS_FILE ${file}: ${p}`));
  let doc: unknown;
  try {
    const text = await readFile(file, "utf8");
    doc = extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw fail([`cannot be read as ${extname(file).toLowerCase() === ".json" ? "JSON" : "YAML"}: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const principals = parsePrincipals(doc, problems);
  if (problems.length > 0) throw fail(problems);
  return principals;
}

export function parsePrincipals(doc: unknown, problems: string[]): Map<string, Principal> {
  const result = new Map<string, Principal>();
  const map = isObject(doc) ? doc.principals : undefined;
  if (!isObject(map)) {
    problems.push("principals: must be a mapping of certificate CN to { roles, tenants }");
    return result;
  }
  for (const [cn, raw] of Object.entries(map)) {
    const path = `principals.${cn}`;
    if (cn.trim() === "") problems.push(`${path}: the CN must not be empty`);
    if (!isObject(raw)) {
      problems.push(`${path}: must be { roles, tenants }`);
      continue;
    }
    const roles = strings(raw.roles, `${path}.roles`, problems);
    const tenants = strings(raw.tenants, `${path}.tenants`, problems);
    const unknown = roles.filter((r) => !isRole(r));
    if (unknown.length > 0) problems.push(`${path}.roles: unknown role(s) ${unknown.join(", ")} (known: ${ROLES.join(", ")})`);
    if (roles.length === 0) problems.push(`${path}.roles: must name at least one role`);
    result.set(cn, {
      subject: `mtls:${cn}`,
      roles: new Set(roles.filter(isRole) as Role[]),
      tenants: tenantScope(tenants),
      via: "mtls",
    });
  }
  return result;
}

function strings(value: unknown, path: string, problems: string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    problems.push(`${path}: must be a list of non-empty strings`);
    return [];
  }
  return value as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
