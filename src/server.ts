// The composition root: every adapter is built here from one typed Config and handed in. Nothing else
// constructs adapters or reads the environment.
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import { adminHandlers } from "./api/admin-handlers.js";
import { auditHandlers } from "./api/audit-handlers.js";
import { authMiddleware } from "./api/auth-middleware.js";
import { createCallAuthenticator } from "./api/authenticate-call.js";
import { errorMappingMiddleware } from "./api/error-mapping-middleware.js";
import { applyMiddleware } from "./api/handler-middleware.js";
import { requestIdMiddleware } from "./api/request-id.js";
import { useNodeTextEncoding } from "./api/node-text-encoding.js";
import { createDecisionResponder } from "./api/decision-responder.js";
import { residencyHandlers } from "./api/residency-handlers.js";
import { withUnimplementedStubs } from "./api/unimplemented-handlers.js";
import { createAuditLog, type AuditLog } from "./audit/audit-log.js";
import type { AuditSink } from "./audit/audit-sink.js";
import { createThreadedAuditLog } from "./audit/threaded-audit-log.js";
import { loadJwksFile } from "./auth/load-jwks-file.js";
import { loadMtlsPrincipals, type CertificatePrincipals } from "./auth/load-mtls-principals.js";
import { mintToken } from "./auth/mint-token.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { createVerifiedTokenCache } from "./auth/verified-token-cache.js";
import { loadRegionCatalog } from "./catalog/load-region-catalog.js";
import { ConfigError, type Config } from "./config.js";
import { DEFAULT_REGIONS } from "./domain/default-region-catalog.js";
import type { Region } from "./domain/region.js";
import { loadDemoData } from "./demo/load-demo-data.js";
import { createEmergencyOverrideService, type EmergencyOverrideService } from "./overrides/emergency-override-service.js";
import { createOverrideSweeper, type OverrideSweeper } from "./overrides/override-sweeper.js";
import { createOverrideUsageCounter, type OverrideUsageCounter } from "./overrides/override-usage-counter.js";
import { createPolicyService, type PolicyService } from "./policies/policy-service.js";
import { createS3ObjectUrlSigner } from "./presign/s3-object-url-signer.js";
import { createRegionStatusService } from "./regions/region-status-service.js";
import { createReplication } from "./replication/replication.js";
import type { SnapshotHolder } from "./snapshot/snapshot-holder.js";
import { healthRoutes } from "./telemetry/health-routes.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics, type ResidencyMetrics } from "./telemetry/metrics.js";
import { createMetricsServer } from "./telemetry/metrics-server.js";
import { readServiceVersion } from "./telemetry/service-version.js";
import { telemetryMiddleware } from "./telemetry/telemetry-middleware.js";
import { tracedPolicyStore } from "./telemetry/traced-policy-store.js";
import { createTracing } from "./telemetry/tracing.js";
import { createConnectListener } from "./transport/connect-listener.js";
import { createGrpcListener } from "./transport/grpc-listener.js";
import { createHealthState } from "./transport/health-state.js";
import { loadTlsMaterial } from "./transport/tls-material.js";

export interface App {
  /** Loads the first snapshot, then opens both listeners and the metrics one; resolves with the bound ports. */
  start(): Promise<{ port: number; grpcPort: number; metricsPort: number }>;
  /** Health NOT_SERVING, stop accepting, finish in-flight calls (up to the grace period), close the store. */
  stop(): Promise<void>;
  readonly logger: Logger;
  readonly snapshots: SnapshotHolder;
  readonly policies: PolicyService;
  /** Prometheus metrics; later adapters (audit, bus, overrides) report through its setters. */
  readonly metrics: ResidencyMetrics;
  /** The audit log: every decision and admin change, hash-chained. */
  readonly audit: AuditLog;
  /** Emergency overrides: the service, the in-memory usage counter (`flush`) and the expiry sweeper (`sweep`). */
  readonly overrides: {
    readonly service: EmergencyOverrideService;
    readonly usage: OverrideUsageCounter;
    readonly sweeper: OverrideSweeper;
  };
}

export interface AppOptions {
  readonly logger?: Logger;
  /** Epoch milliseconds. */
  readonly clock?: () => number;
  /** Turns tracing on with this exporter (spans exported as they end), whatever the OTEL_* config says; for tests. */
  readonly spanExporter?: SpanExporter;
  /**
   * Benchmarks only (`npm run bench:audit` measures the service with decisions' audit off): where decisions' audit
   * records go instead of the audit log. Not configurable: a deployed service always records every decision.
   */
  readonly decisionAuditSink?: AuditSink;
}

/** How long a write waits for this replica's snapshot to include it before answering anyway. */
const READ_YOUR_WRITES_TIMEOUT_MS = 5_000;
/** Lifetime of the admin token logged at start when the development secret is in use. */
const DEVELOPMENT_TOKEN_TTL_SECONDS = 24 * 3600;

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  useNodeTextEncoding();
  const serviceVersion = readServiceVersion();
  const tracing = createTracing({ config: config.tracing, serviceVersion, exporter: options.spanExporter });
  const logger = options.logger ?? createLogger(config.logLevel, { traceId: tracing?.currentTraceId });
  const clock = options.clock ?? Date.now;
  const regions = config.regionsFile ? await loadRegionCatalog(config.regionsFile) : DEFAULT_REGIONS;
  checkDefaultRegion(config, regions);
  const tls = config.tls === undefined ? undefined : await loadTlsMaterial(config.tls);
  const certificatePrincipals: CertificatePrincipals =
    config.auth.mtlsPrincipalsFile === undefined ? new Map() : await loadMtlsPrincipals(config.auth.mtlsPrincipalsFile);
  const jwks =
    config.auth.jwksUrl !== undefined
      ? { url: config.auth.jwksUrl }
      : config.auth.jwksFile !== undefined
        ? { keys: await loadJwksFile(config.auth.jwksFile) }
        : undefined;

  // DATABASE_URL / REDIS_URL select Postgres and Redis; without them, the embedded SQLite store and in-process bus.
  const replication = createReplication({
    config,
    regions,
    clock,
    logger,
    decorateStore: (store, kind) => (tracing === undefined ? store : tracedPolicyStore(store, tracing, kind)),
    observePropagationLag: (seconds) => metrics.observePropagationLag(seconds),
    readYourWritesTimeoutMs: READ_YOUR_WRITES_TIMEOUT_MS,
  });
  const { store, snapshots, announce } = replication;

  const regionById = new Map(regions.map((r) => [r.id, r]));
  const policies = createPolicyService({ store, clock, regions: regionById, announce });
  const regionStatus = createRegionStatusService({ store, clock, regions: regionById, snapshots, announce });

  const metrics = createMetrics({ regionIds: regions.map((r) => r.id), snapshots, clock });
  // Decisions are queued for the audit writer; admin changes are chained in their own write transaction.
  const audit = config.audit.writerThread
    ? createThreadedAuditLog({
        target: { databaseUrl: config.databaseUrl, dataDir: config.dataDir },
        store: replication.auditStore,
        settings: config.audit,
        threadNice: config.audit.writerNice,
        threadSched: config.audit.writerSched,
        metrics,
        logger,
      })
    : createAuditLog({
        store: replication.auditStore,
        settings: config.audit,
        metrics,
        logger,
        ...(tracing === undefined ? {} : { traced: (name, attributes, fn) => tracing.inSpan(name, attributes, fn) }),
      });
  const overrides = createEmergencyOverrideService({
    store,
    regions: regionById,
    clock,
    settings: config.emergency,
    announce,
    countTransition: (status) => metrics.countEmergencyOverride(status),
  });
  // Uses are counted in memory on the decision path and added to the store in batches, never per decision.
  const overrideUsage = createOverrideUsageCounter({
    store,
    flushIntervalMs: config.emergency.usageFlushMs,
    onUse: () => metrics.countEmergencyOverride("used"),
    logger,
  });
  const overrideSweeper = createOverrideSweeper({ sweep: () => overrides.sweep(), intervalMs: config.emergency.sweepIntervalMs, logger });
  const authenticate = createCallAuthenticator({
    verify: createTokenVerifier({ ...config.auth, jwks, clock }),
    cache: createVerifiedTokenCache({ clock }),
    certificatePrincipals,
  });
  const middleware = [
    requestIdMiddleware,
    ...telemetryMiddleware({ tracing, metrics, logger }),
    errorMappingMiddleware(logger),
    authMiddleware({ authenticate, logger }),
  ];
  const registrations = [
    residencyHandlers({ snapshots, awaitVersion: replication.awaitVersion, respond: createDecisionResponder(clock, options.decisionAuditSink ?? audit, overrideUsage), signer: createS3ObjectUrlSigner(config.s3Credentials) }),
    adminHandlers({ policies, regionStatus, overrides }),
    auditHandlers({ store: replication.auditStore, hub: audit.hub }),
  ].map((reg) => applyMiddleware(withUnimplementedStubs(reg), middleware));

  const health = createHealthState();
  health.setAll("NOT_SERVING");
  const connectListener = createConnectListener({
    registrations,
    host: config.host,
    port: config.port,
    corsAllowedOrigins: config.corsAllowedOrigins,
    health,
    httpRoutes: healthRoutes({ health, snapshots, store, version: serviceVersion, clock, logger, replication: replication.status }),
    logger,
    maxRequestBytes: config.maxRequestBytes,
    tls,
  });
  const grpcListener = createGrpcListener({
    registrations,
    host: config.host,
    port: config.grpcPort,
    health,
    logger,
    maxRequestBytes: config.maxRequestBytes,
    tls,
  });

  const metricsServer = createMetricsServer({ registry: metrics.registry, host: config.host, port: config.metricsPort, logger });

  return {
    logger,
    snapshots,
    policies,
    metrics,
    audit,
    overrides: { service: overrides, usage: overrideUsage, sweeper: overrideSweeper },
    async start() {
      // The audit writer thread starts (loads its code, opens the spool) while the first snapshot loads.
      await Promise.all([replication.start(), audit.start()]);
      overrideUsage.start();
      overrideSweeper.start();
      if (config.demoData) {
        const created = await loadDemoData(policies, "demo-data");
        logger.info({ created }, "demo data loaded (DEMO_DATA=true)");
      }
      const [{ port }, { port: grpcPort }, { port: metricsPort }] = await Promise.all([
        connectListener.start(),
        grpcListener.start(),
        metricsServer.start(),
      ]);
      health.setAll("SERVING");
      if (config.auth.developmentSecret) await announceDevelopmentSecret(config, logger, clock());
      logger.info(
        {
          port,
          grpc_port: grpcPort,
          metrics_port: metricsPort,
          tls: tls === undefined ? "off" : tls.clientCa === undefined ? "on" : "mtls",
          tracing: tracing !== undefined,
          snapshot_version: snapshots.current().version,
        },
        "residency is serving",
      );
      return { port, grpcPort, metricsPort };
    },
    async stop() {
      health.setAll("NOT_SERVING");
      audit.closeStreams(); // live audit streams end cleanly rather than hold the grace period
      await Promise.all([connectListener.stop(config.shutdownGraceMs), grpcListener.stop(config.shutdownGraceMs)]);
      // Every decision is in: its override uses go to the store.
      await overrideSweeper.stop();
      await overrideUsage.stop();
      // Every decision is in: the queue goes to the database, or to the spool when it cannot be reached.
      await audit.close();
      await replication.stop();
      await metricsServer.stop();
      // Flushes the spans still buffered, the shutdown's own included.
      await tracing?.shutdown();
      logger.info({}, "residency stopped");
    },
  };
}

function checkDefaultRegion(config: Config, regions: readonly Region[]): void {
  if (config.defaultRegion !== undefined && !regions.some((r) => r.id === config.defaultRegion)) {
    throw new ConfigError([
      `DEFAULT_REGION="${config.defaultRegion}": not in the region catalog (${regions.map((r) => r.id).join(", ")})`,
    ]);
  }
}

/**
 * SECRET_KEY is unset: anyone can mint tokens with the built-in secret. Says so loudly, and hands the
 * developer a ready admin token (every tenant, 24 h) so that the quick start works. The only token ever
 * logged; NODE_ENV=production refuses to start in this state (config.ts).
 */
async function announceDevelopmentSecret(config: Config, logger: Logger, now: number): Promise<void> {
  logger.warn(
    {},
    "SECRET_KEY IS NOT SET: tokens are signed with the built-in DEVELOPMENT secret, which anyone can read in the source. " +
      "Never expose this instance; set SECRET_KEY (openssl rand -base64 48) for anything but local development.",
  );
  const token = await mintToken({
    secretKey: config.auth.secretKey,
    subject: "dev-admin",
    roles: ["admin"],
    tenants: ["*"],
    ttlSeconds: DEVELOPMENT_TOKEN_TTL_SECONDS,
    now,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  logger.warn(
    { development_admin_token: token, expires_in_hours: DEVELOPMENT_TOKEN_TTL_SECONDS / 3600 },
    "development admin token (roles: admin, tenants: *): send it as 'authorization: Bearer <token>'",
  );
}
