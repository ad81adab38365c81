// The one place that reads the environment. Every setting is parsed and checked here; a bad value stops
// the service at start with a message naming the variable, never a silent default.

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export interface Config {
  /** Interface both listeners bind. @default "0.0.0.0" */
  readonly host: string;
  /** Connect / gRPC / gRPC-Web port. 0 picks a free port. @default 8000 */
  readonly port: number;
  /** Native grpc-js listener for sidecars. 0 picks a free port. @default 50051 */
  readonly grpcPort: number;
  /** Embedded store directory (SQLite file), used when DATABASE_URL is unset. @default "./data" */
  readonly dataDir: string;
  /** Postgres connection string; unset selects the embedded SQLite store. */
  readonly databaseUrl: string | undefined;
  /** Redis connection string; unset selects the in-process bus. */
  readonly redisUrl: string | undefined;
  /** JSON or YAML file replacing the built-in region catalog. */
  readonly regionsFile: string | undefined;
  /** Region for tenants with no policy; unset fails closed (NO_POLICY). */
  readonly defaultRegion: string | undefined;
  /** Origins allowed by CORS; ["*"] allows any. @default ["*"] */
  readonly corsAllowedOrigins: readonly string[];
  /** @default "info", or "debug" when DEBUG=true */
  readonly logLevel: LogLevel;
  /** How long shutdown waits for in-flight calls. @default 10000 */
  readonly shutdownGraceMs: number;
  /** Largest accepted request message. @default 4 MiB */
  readonly maxRequestBytes: number;
  /** Load the seed's sample tenant at start when the store is empty. @default false */
  readonly demoData: boolean;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name}="${raw}": must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return false;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name}="${env[name]}": must be true or false`);
    return false;
  };

  const debug = bool("DEBUG");
  const rawLevel = text("LOG_LEVEL")?.toLowerCase();
  let logLevel: LogLevel = debug ? "debug" : "info";
  if (rawLevel !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(rawLevel)) logLevel = rawLevel as LogLevel;
    else problems.push(`LOG_LEVEL="${env.LOG_LEVEL}": must be one of ${LOG_LEVELS.join(", ")}`);
  }

  const databaseUrl = text("DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?(\+asyncpg)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL: must start with postgres:// or postgresql:// (or the seed's postgresql+asyncpg://)");
  }
  const redisUrl = text("REDIS_URL");
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push("REDIS_URL: must start with redis:// or rediss://");
  }

  const config: Config = {
    host: text("HOST") ?? "0.0.0.0",
    port: int("PORT", 8000, 0, 65535),
    grpcPort: int("GRPC_PORT", 50051, 0, 65535),
    dataDir: text("DATA_DIR") ?? "./data",
    databaseUrl,
    redisUrl,
    regionsFile: text("REGIONS_FILE"),
    defaultRegion: text("DEFAULT_REGION"),
    corsAllowedOrigins: (text("CORS_ORIGINS") ?? "*").split(",").map((o) => o.trim()).filter(Boolean),
    logLevel,
    shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    maxRequestBytes: int("MAX_REQUEST_BYTES", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    demoData: bool("DEMO_DATA"),
  };
  if (config.port !== 0 && config.port === config.grpcPort) {
    problems.push(`PORT and GRPC_PORT are both ${config.port}: the two listeners need different ports`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
