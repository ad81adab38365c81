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
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN for presigned URLs; unset: PresignObjectUrl is FAILED_PRECONDITION. */
  readonly s3Credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string | undefined } | undefined;
  /** Effective retention cap for COPPA data, in days. @default 365 */
  readonly coppaRetentionCapDays: number;
  /** Prometheus listener (GET /metrics). 0 picks a free port. @default 8001 */
  readonly metricsPort: number;
  /** OpenTelemetry tracing from the standard OTEL_* variables; undefined when off (nothing configured). */
  readonly tracing: TracingConfig | undefined;
}

export type TraceExporterKind = "otlp" | "console";

/**
 * Tracing is on when OTEL_TRACES_EXPORTER names an exporter, or when it is unset and an OTLP endpoint is
 * given; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off. The OTLP exporter itself also
 * honours OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, _TIMEOUT, _COMPRESSION and the certificate variables, and
 * the SDK OTEL_TRACES_SAMPLER(_ARG) and the span limits.
 */
export interface TracingConfig {
  /** OTEL_TRACES_EXPORTER. @default ["otlp"] */
  readonly exporters: readonly TraceExporterKind[];
  /**
   * OTLP/HTTP (protobuf) traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
   * OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces". @default "http://localhost:4318/v1/traces"
   */
  readonly otlpTracesUrl: string;
  /** OTEL_SERVICE_NAME. @default "residency" */
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES (key=value,…), decoded. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
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
    s3Credentials: s3Credentials(text, problems),
    coppaRetentionCapDays: int("COPPA_RETENTION_CAP_DAYS", 365, 1, 36_500),
    metricsPort: int("METRICS_PORT", 8001, 0, 65535),
    tracing: tracingConfig(text, bool, problems),
  };
  if (config.port !== 0 && config.port === config.grpcPort) {
    problems.push(`PORT and GRPC_PORT are both ${config.port}: the two listeners need different ports`);
  }
  if (config.metricsPort !== 0 && (config.metricsPort === config.port || config.metricsPort === config.grpcPort)) {
    problems.push(`METRICS_PORT ${config.metricsPort} is also PORT or GRPC_PORT: the metrics listener needs its own port`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function s3Credentials(text: (name: string) => string | undefined, problems: string[]): Config["s3Credentials"] {
  const accessKeyId = text("AWS_ACCESS_KEY_ID");
  const secretAccessKey = text("AWS_SECRET_ACCESS_KEY");
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    problems.push("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither");
    return undefined;
  }
  return { accessKeyId, secretAccessKey, sessionToken: text("AWS_SESSION_TOKEN") };
}

const TRACE_EXPORTERS: readonly string[] = ["otlp", "console", "none"];

function tracingConfig(
  text: (name: string) => string | undefined,
  bool: (name: string) => boolean,
  problems: string[],
): TracingConfig | undefined {
  if (bool("OTEL_SDK_DISABLED")) return undefined;
  const tracesEndpoint = text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const endpoint = text("OTEL_EXPORTER_OTLP_ENDPOINT");
  const rawExporters = text("OTEL_TRACES_EXPORTER");
  let exporters: string[];
  if (rawExporters === undefined) {
    if (tracesEndpoint === undefined && endpoint === undefined) return undefined;
    exporters = ["otlp"];
  } else {
    exporters = [...new Set(rawExporters.toLowerCase().split(",").map((e) => e.trim()).filter(Boolean))];
    const unknown = exporters.filter((e) => !TRACE_EXPORTERS.includes(e));
    if (unknown.length > 0) {
      problems.push(`OTEL_TRACES_EXPORTER="${rawExporters}": must be otlp, console or none (comma-separated)`);
      return undefined;
    }
    if (exporters.includes("none")) return undefined;
  }

  let otlpTracesUrl = tracesEndpoint ?? (endpoint === undefined ? "http://localhost:4318/v1/traces" : `${endpoint.replace(/\/+$/, "")}/v1/traces`);
  const urlName = tracesEndpoint !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  if (exporters.includes("otlp")) {
    if (!/^https?:\/\/[^/]/.test(otlpTracesUrl) || !URL.canParse(otlpTracesUrl)) {
      problems.push(`${urlName}="${tracesEndpoint ?? endpoint}": must be an http:// or https:// URL`);
      otlpTracesUrl = "http://localhost:4318/v1/traces";
    }
    const protocolName = text("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
    const protocol = text(protocolName);
    if (protocol !== undefined && protocol !== "http/protobuf") {
      problems.push(`${protocolName}="${protocol}": only http/protobuf is supported (OTLP over HTTP, port 4318)`);
    }
  }

  const resourceAttributes: Record<string, string> = {};
  const rawAttributes = text("OTEL_RESOURCE_ATTRIBUTES");
  for (const pair of rawAttributes?.split(",") ?? []) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq).trim() : "";
    let value: string | undefined;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      value = undefined;
    }
    if (key === "" || value === undefined) {
      problems.push(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is not key=value (values percent-encoded)`);
      continue;
    }
    resourceAttributes[key] = value;
  }

  return {
    exporters: exporters as TraceExporterKind[],
    otlpTracesUrl,
    serviceName: text("OTEL_SERVICE_NAME") ?? "residency",
    resourceAttributes,
  };
}
