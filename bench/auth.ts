// Bearer tokens for versions of the service that authenticate callers (issue #5). The bench must run
// against the tree as it is, with or without authentication, so the minting module is loaded by a
// computed specifier (type-checked here, not against src/) and used only when the config has `auth`.

/** What the bench needs of src/auth/mint-token.ts. */
interface MintTokenModule {
  mintToken(input: {
    secretKey: string;
    subject: string;
    roles: readonly string[];
    tenants: readonly string[];
    ttlSeconds: number;
    now: number;
    issuer?: string | undefined;
    audience?: readonly string[] | undefined;
  }): Promise<string>;
}

interface AuthSettings {
  readonly secretKey: string;
  readonly issuer?: string | undefined;
  readonly audience?: readonly string[] | undefined;
}

export interface BenchTokens {
  /** Role admin, every tenant: creates the bench policy. */
  readonly admin: string;
  /** Role service, the bench tenant only: what a sidecar sends with ResolveAccess. */
  readonly service: string;
}

/** A SECRET_KEY for the bench's app (at least 32 bytes); versions without authentication ignore it. */
export const BENCH_SECRET_KEY = "residency-bench-secret-key-0123456789-abcdefghij";

const MINT_TOKEN_MODULE = "../src/auth/mint-token.js";

/** Tokens the app accepts, or undefined when this version of the service has no authentication. */
export async function benchTokens(config: unknown, tenantId: string): Promise<BenchTokens | undefined> {
  const auth = (config as { auth?: AuthSettings }).auth;
  if (auth === undefined || typeof auth.secretKey !== "string") return undefined;
  const { mintToken } = (await import(MINT_TOKEN_MODULE)) as MintTokenModule;
  const mint = (subject: string, roles: string[], tenants: string[]) =>
    mintToken({
      secretKey: auth.secretKey,
      subject,
      roles,
      tenants,
      ttlSeconds: 3600,
      now: Date.now(),
      issuer: auth.issuer,
      audience: auth.audience,
    });
  return { admin: await mint("bench-admin", ["admin"], ["*"]), service: await mint("bench-sidecar", ["service"], [tenantId]) };
}
