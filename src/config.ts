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
  /** With DATABASE_URL: apply pending migrations at start (false: refuse to start while any is pending). @default true */
  readonly runMigrations: boolean;
  /** Redis pub/sub channel the replicas announce changes on; replicas of one deployment share it. @default "residency:changes" */
  readonly redisChannel: string;
  /** A replica that has heard nothing for this long asks the store for its change version and catches up. @default 30000 */
  readonly snapshotMaxStalenessMs: number;
  /** How long a request whose min_snapshot_version is ahead waits (triggering a catch-up) before FAILED_PRECONDITION. @default 200 */
  readonly minSnapshotWaitMs: number;
  /** The outbox relay's safety pass: publishes committed changes a writer did not (a crash, a bus outage). @default 5000 */
  readonly outboxRelayIntervalMs: number;
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
  /** The tamper-evident audit log's queue, batches and spool. */
  readonly audit: AuditConfig;
  /** Emergency overrides (break-glass). */
  readonly emergency: EmergencyConfig;
  /** NODE_ENV=production: refuses the built-in development secret (and a JWKS over plain http). */
  readonly production: boolean;
  /** How callers prove who they are: bearer JWTs, and optionally mTLS client certificates. */
  readonly auth: AuthConfig;
  /** TLS_CERT_FILE / TLS_KEY_FILE (/ TLS_CLIENT_CA_FILE) for both listeners; undefined: cleartext. */
  readonly tls: TlsConfig | undefined;
}

/** Every RPC of the three residency services needs `authorization: Bearer <JWT>` (or a mapped client certificate). */
export interface AuthConfig {
  /**
   * SECRET_KEY: the HS256 key tokens are signed and verified with (at least 32 bytes). @default the
   * built-in development secret, which NODE_ENV=production refuses.
   */
  readonly secretKey: string;
  /** True when SECRET_KEY is unset and the built-in development secret is in use. */
  readonly developmentSecret: boolean;
  /** JWT_JWKS_URL: RS256 / ES256 tokens are also accepted, verified with the keys published there. */
  readonly jwksUrl: string | undefined;
  /** JWT_JWKS_FILE: RS256 / ES256 tokens are also accepted, verified with the keys of this JSON file. */
  readonly jwksFile: string | undefined;
  /** JWT_ISSUER: the required `iss`; unset: not checked. */
  readonly issuer: string | undefined;
  /** JWT_AUDIENCE (comma-separated): `aud` must name one of them; unset: not checked. */
  readonly audience: readonly string[] | undefined;
  /** JWT_CLOCK_TOLERANCE_SECONDS: leeway on `exp` and `nbf`. @default 5 */
  readonly clockToleranceSeconds: number;
  /** MTLS_PRINCIPALS_FILE: JSON or YAML mapping client-certificate CNs to roles and tenants (needs TLS_CLIENT_CA_FILE). */
  readonly mtlsPrincipalsFile: string | undefined;
}

export interface TlsConfig {
  /** TLS_CERT_FILE: PEM certificate chain of both listeners. */
  readonly certFile: string;
  /** TLS_KEY_FILE: PEM private key. */
  readonly keyFile: string;
  /** TLS_CLIENT_CA_FILE: PEM CA bundle; set, both listeners require client certificates it signed (mTLS). */
  readonly clientCaFile: string | undefined;
}

/**
 * The secret used when SECRET_KEY is unset: anyone who reads this file can mint tokens with it, so the
 * service warns loudly and NODE_ENV=production refuses it.
 */
export const DEVELOPMENT_SECRET_KEY = "residency-development-secret-do-not-use-in-production";

/** HS256 keys shorter than this are refused (RFC 7518 §3.2: the key must be at least the hash size). */
export const MIN_SECRET_KEY_BYTES = 32;

/** Every decision and admin change is recorded; these bound how (issue #6). */
export interface AuditConfig {
  /** AUDIT_SPOOL_DIR: local append-only files holding records while the database is unavailable. @default "<DATA_DIR>/audit-spool" */
  readonly spoolDir: string;
  /** AUDIT_QUEUE_MAX: records waiting to be written; when full, decisions are shed with UNAVAILABLE. @default 100000 */
  readonly queueMax: number;
  /** AUDIT_BATCH_SIZE: most records per database write. @default 500 */
  readonly batchSize: number;
  /** AUDIT_FLUSH_MS: longest a record waits in the queue before its batch is written. @default 100 */
  readonly flushIntervalMs: number;
  /**
   * AUDIT_WRITER_THREAD: hash and write the chain in a worker thread with its own database connection, off the
   * event loop that answers decisions; false writes on the main thread. @default true
   */
  readonly writerThread: boolean;
  /**
   * AUDIT_WRITER_NICE: the writer thread's CPU priority (nice, 0–19, Linux). Above 0, a decision's thread (and
   * anything else at normal priority) runs before it on a busy machine, and the writer catches up when a core is
   * idle; the queue bound (AUDIT_QUEUE_MAX, then shedding) still holds if it cannot. @default 10
   */
  readonly writerNice: number;
  /**
   * AUDIT_WRITER_SCHED: "idle" runs the writer thread under Linux's SCHED_IDLE policy (set with util-linux `chrt`)
   * instead of at AUDIT_WRITER_NICE: it then runs only on a core nothing else wants, and never pushes a waking
   * thread (a decision's, a local client's) onto a busy core; where other work keeps every core busy, the writer
   * falls behind and decisions are shed sooner than at a nice value. "auto" runs it under SCHED_IDLE while it keeps
   * up and raises it to AUDIT_WRITER_NICE while records wait (1 s, or AUDIT_FLUSH_MS + 100 ms, with none written;
   * a tenth of AUDIT_QUEUE_MAX waiting; or a flush or the shutdown waiting), where the process may raise it
   * (CAP_SYS_NICE, or a RLIMIT_NICE allowing the nice value); elsewhere "auto" is "normal". "normal":
   * AUDIT_WRITER_NICE only. @default "auto"
   */
  readonly writerSched: "normal" | "idle" | "auto";
}

/** Emergency overrides (issue #5): how long they may last, who must approve, and the background work around them. */
export interface EmergencyConfig {
  /** EMERGENCY_MAX_HOURS: the longest duration_hours a request may ask for (1 to 720). @default 72 */
  readonly maxHours: number;
  /**
   * EMERGENCY_REQUIRED_APPROVALS: 1, a second person (not the requester) must approve; 0, for single-person setups,
   * a request is ACTIVE at once (approved_by "none required"). @default 1
   */
  readonly requiredApprovals: number;
  /** EMERGENCY_SWEEP_INTERVAL_MS: how often expired overrides (and PENDING ones past 24 h) are marked EXPIRED. @default 60000 */
  readonly sweepIntervalMs: number;
  /** EMERGENCY_USAGE_FLUSH_MS: how often the uses counted in memory are added to the store. @default 1000 */
  readonly usageFlushMs: number;
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
  const bool = (name: string, fallback = false): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
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
  const redisChannel = text("REDIS_CHANNEL") ?? "residency:changes";
  if (redisChannel.length > 256 || /\s/.test(redisChannel)) {
    problems.push(`REDIS_CHANNEL="${redisChannel.slice(0, 64)}": must be at most 256 characters without spaces`);
  }

  const production = text("NODE_ENV")?.toLowerCase() === "production";
  const config: Config = {
    host: text("HOST") ?? "0.0.0.0",
    port: int("PORT", 8000, 0, 65535),
    grpcPort: int("GRPC_PORT", 50051, 0, 65535),
    dataDir: text("DATA_DIR") ?? "./data",
    databaseUrl,
    redisUrl,
    runMigrations: bool("RUN_MIGRATIONS", true),
    redisChannel,
    snapshotMaxStalenessMs: int("SNAPSHOT_MAX_STALENESS_MS", 30_000, 100, 3_600_000),
    minSnapshotWaitMs: int("MIN_SNAPSHOT_WAIT_MS", 200, 0, 10_000),
    outboxRelayIntervalMs: int("OUTBOX_RELAY_INTERVAL_MS", 5_000, 100, 3_600_000),
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
    audit: {
      spoolDir: text("AUDIT_SPOOL_DIR") ?? `${(text("DATA_DIR") ?? "./data").replace(/\/+$/, "")}/audit-spool`,
      queueMax: int("AUDIT_QUEUE_MAX", 100_000, 1, 10_000_000),
      batchSize: int("AUDIT_BATCH_SIZE", 500, 1, 10_000),
      flushIntervalMs: int("AUDIT_FLUSH_MS", 100, 1, 60_000),
      writerThread: bool("AUDIT_WRITER_THREAD", true),
      writerNice: int("AUDIT_WRITER_NICE", 10, 0, 19),
      writerSched: writerSched(text("AUDIT_WRITER_SCHED"), problems),
    },
    emergency: {
      maxHours: int("EMERGENCY_MAX_HOURS", 72, 1, 720),
      requiredApprovals: int("EMERGENCY_REQUIRED_APPROVALS", 1, 0, 1),
      sweepIntervalMs: int("EMERGENCY_SWEEP_INTERVAL_MS", 60_000, 10, 3_600_000),
      usageFlushMs: int("EMERGENCY_USAGE_FLUSH_MS", 1_000, 10, 60_000),
    },
    production,
    auth: authConfig(text, int, production, problems),
    tls: tlsConfig(text, problems),
  };
  if (config.auth.mtlsPrincipalsFile !== undefined && config.tls?.clientCaFile === undefined) {
    problems.push("MTLS_PRINCIPALS_FILE: needs TLS_CLIENT_CA_FILE (client certificates are only trusted when the listeners verify them)");
  }
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

function authConfig(
  text: (name: string) => string | undefined,
  int: (name: string, fallback: number, min: number, max: number) => number,
  production: boolean,
  problems: string[],
): AuthConfig {
  const given = text("SECRET_KEY");
  if (given !== undefined && Buffer.byteLength(given, "utf8") < MIN_SECRET_KEY_BYTES) {
    problems.push(`SECRET_KEY: must be at least ${MIN_SECRET_KEY_BYTES} bytes (got ${Buffer.byteLength(given, "utf8")}); generate one with: openssl rand -base64 48`);
  }
  const developmentSecret = given === undefined || given === DEVELOPMENT_SECRET_KEY;
  if (production && developmentSecret) {
    problems.push("SECRET_KEY: NODE_ENV=production refuses the built-in development secret; set SECRET_KEY to a random value of at least 32 bytes");
  }
  const jwksUrl = text("JWT_JWKS_URL");
  const jwksFile = text("JWT_JWKS_FILE");
  if (jwksUrl !== undefined && jwksFile !== undefined) problems.push("JWT_JWKS_URL and JWT_JWKS_FILE: set one or the other, not both");
  if (jwksUrl !== undefined) {
    if (!/^https?:\/\/[^/]/.test(jwksUrl) || !URL.canParse(jwksUrl)) problems.push(`JWT_JWKS_URL="${jwksUrl}": must be an http:// or https:// URL`);
    else if (production && !jwksUrl.startsWith("https://")) problems.push("JWT_JWKS_URL: NODE_ENV=production needs an https:// URL (keys fetched over plain http could be replaced in transit)");
  }
  const audience = text("JWT_AUDIENCE")?.split(",").map((a) => a.trim()).filter(Boolean);
  return {
    secretKey: given ?? DEVELOPMENT_SECRET_KEY,
    developmentSecret,
    jwksUrl,
    jwksFile,
    issuer: text("JWT_ISSUER"),
    audience: audience !== undefined && audience.length > 0 ? audience : undefined,
    clockToleranceSeconds: int("JWT_CLOCK_TOLERANCE_SECONDS", 5, 0, 300),
    mtlsPrincipalsFile: text("MTLS_PRINCIPALS_FILE"),
  };
}

function tlsConfig(text: (name: string) => string | undefined, problems: string[]): TlsConfig | undefined {
  const certFile = text("TLS_CERT_FILE");
  const keyFile = text("TLS_KEY_FILE");
  const clientCaFile = text("TLS_CLIENT_CA_FILE");
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) problems.push("TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE (mTLS is TLS with client certificates)");
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    problems.push("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither");
    return undefined;
  }
  return { certFile, keyFile, clientCaFile };
}

const TRACE_EXPORTERS: readonly string[] = ["otlp", "console", "none"];

function writerSched(raw: string | undefined, problems: string[]): AuditConfig["writerSched"] {
  const value = raw?.toLowerCase();
  if (value === undefined || value === "auto") return "auto";
  if (value === "normal" || value === "idle") return value;
  problems.push(`AUDIT_WRITER_SCHED="${raw}": must be auto, normal or idle`);
  return "auto";
}

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
