// `npm run -s token -- --sub alice --roles policy-admin --tenants acme-edu [--ttl 1h]`: prints an HS256
// bearer token signed with SECRET_KEY (read through loadConfig, like the service), with JWT_ISSUER and
// JWT_AUDIENCE when configured. Only the token goes to stdout, so `TOKEN=$(npm run -s token -- …)` works.
import { parseArgs } from "node:util";
import { mintToken, parseTtl } from "../auth/mint-token.js";
import { isRole, ROLES, type Role } from "../auth/roles.js";
import { ConfigError, loadConfig } from "../config.js";

const USAGE = `usage: npm run -s token -- --sub <subject> --roles <role,…> --tenants <tenant,…|*> [--ttl 1h]
  roles: ${ROLES.join(", ")}
  ttl:   seconds, or a number with s, m, h or d (default 1h)`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(1);
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

let args;
try {
  args = parseArgs({
    options: {
      sub: { type: "string" },
      roles: { type: "string", multiple: true },
      tenants: { type: "string", multiple: true },
      ttl: { type: "string", default: "1h" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const subject = args.sub?.trim();
if (!subject) fail("--sub is required");
const roles = list(args.roles);
const unknown = roles.filter((r) => !isRole(r));
if (roles.length === 0) fail("--roles is required");
if (unknown.length > 0) fail(`unknown role(s): ${unknown.join(", ")}`);
const tenants = list(args.tenants);
if (tenants.length === 0) fail('--tenants is required (tenant ids, or "*" for every tenant)');
const ttlSeconds = parseTtl(args.ttl ?? "1h");
if (ttlSeconds === undefined) fail(`--ttl "${args.ttl}": not a duration`);

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
if (config.auth.developmentSecret) {
  console.error("warning: SECRET_KEY is not set: this token is signed with the built-in development secret");
}
const now = Date.now();
const token = await mintToken({
  secretKey: config.auth.secretKey,
  subject,
  roles: roles as Role[],
  tenants,
  ttlSeconds,
  now,
  issuer: config.auth.issuer,
  audience: config.auth.audience,
});
console.error(
  `token for ${subject}: roles ${roles.join(", ")}; tenants ${tenants.join(", ")}; expires ${new Date(now + ttlSeconds * 1000).toISOString()}`,
);
console.log(token);
