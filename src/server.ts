// The composition root: every adapter is built here from one typed Config and handed in. Nothing else
// constructs adapters or reads the environment.
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import { AuditService } from "../gen/residency/v1/audit_service_pb.js";
import { adminHandlers } from "./api/admin-handlers.js";
import { errorMappingMiddleware } from "./api/error-mapping-middleware.js";
import { applyMiddleware } from "./api/handler-middleware.js";
import { requestIdMiddleware } from "./api/request-id.js";
import { createDecisionResponder } from "./api/decision-responder.js";
import { residencyHandlers } from "./api/residency-handlers.js";
import { registration } from "./api/service-handlers.js";
import type { ChangeEvent } from "./bus/change-bus.js";
import { createInProcessBus } from "./bus/in-process-bus.js";
import { loadRegionCatalog } from "./catalog/load-region-catalog.js";
import { ConfigError, type Config } from "./config.js";
import { DEFAULT_REGIONS } from "./domain/default-region-catalog.js";
import type { Region } from "./domain/region.js";
import { loadDemoData } from "./demo/load-demo-data.js";
import { createPolicyService, type PolicyService } from "./policies/policy-service.js";
import { createS3ObjectUrlSigner } from "./presign/s3-object-url-signer.js";
import { createRegionStatusService } from "./regions/region-status-service.js";
import { buildSnapshot } from "./snapshot/snapshot.js";
import { createSnapshotHolder, type SnapshotHolder } from "./snapshot/snapshot-holder.js";
import { createSqlitePolicyStore } from "./store/sqlite/sqlite-policy-store.js";
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
}

export interface AppOptions {
  readonly logger?: Logger;
  /** Epoch milliseconds. */
  readonly clock?: () => number;
  /** Turns tracing on with this exporter (spans exported as they end), whatever the OTEL_* config says; for tests. */
  readonly spanExporter?: SpanExporter;
}

/** How long a write waits for this replica's snapshot to include it before answering anyway. */
const READ_YOUR_WRITES_TIMEOUT_MS = 5_000;

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const serviceVersion = readServiceVersion();
  const tracing = createTracing({ config: config.tracing, serviceVersion, exporter: options.spanExporter });
  const logger = options.logger ?? createLogger(config.logLevel, { traceId: tracing?.currentTraceId });
  const clock = options.clock ?? Date.now;
  if (config.databaseUrl !== undefined || config.redisUrl !== undefined) {
    throw new ConfigError([
      "DATABASE_URL / REDIS_URL: production mode (Postgres and Redis) is not available in this version; unset them to use the embedded store",
    ]);
  }
  const regions = config.regionsFile ? await loadRegionCatalog(config.regionsFile) : DEFAULT_REGIONS;
  checkDefaultRegion(config, regions);

  const sqliteStore = createSqlitePolicyStore({ dataDir: config.dataDir });
  const store = tracing === undefined ? sqliteStore : tracedPolicyStore(sqliteStore, tracing, "sqlite");
  const bus = createInProcessBus();
  const snapshots = createSnapshotHolder({
    logger,
    load: async () => {
      const data = await store.loadSnapshotData();
      return buildSnapshot({
        version: data.changeVersion,
        regions,
        policies: data.policies,
        regionStatuses: data.regionStatuses,
        defaultRegion: config.defaultRegion,
        compliance: { coppaRetentionCapDays: config.coppaRetentionCapDays },
        builtAt: clock(),
      });
    },
  });
  bus.subscribe((event) => {
    if (!snapshots.loaded || event.version > snapshots.current().version) {
      // A failed reload keeps the last good snapshot and is logged by the holder.
      snapshots.refresh().catch(() => undefined);
    }
  });

  const regionById = new Map(regions.map((r) => [r.id, r]));
  const announce = async (change: ChangeEvent) => {
    await bus.publish(change);
    if (!(await snapshots.waitForVersion(change.version, READ_YOUR_WRITES_TIMEOUT_MS))) {
      logger.warn({ snapshot_version: change.version }, "committed change not yet in this replica's snapshot");
    }
  };
  const policies = createPolicyService({ store, clock, regions: regionById, announce });
  const regionStatus = createRegionStatusService({ store, clock, regions: regionById, snapshots, announce });

  const metrics = createMetrics({ regionIds: regions.map((r) => r.id), snapshots, clock });
  const middleware = [requestIdMiddleware, ...telemetryMiddleware({ tracing, metrics, logger }), errorMappingMiddleware(logger)];
  const registrations = [
    residencyHandlers({ snapshots, respond: createDecisionResponder(clock), signer: createS3ObjectUrlSigner(config.s3Credentials) }),
    adminHandlers({ policies, regionStatus }),
    registration(AuditService, {}),
  ].map((reg) => applyMiddleware(reg, middleware));

  const health = createHealthState();
  health.setAll("NOT_SERVING");
  const connectListener = createConnectListener({
    registrations,
    host: config.host,
    port: config.port,
    corsAllowedOrigins: config.corsAllowedOrigins,
    health,
    httpRoutes: healthRoutes({ health, snapshots, store, version: serviceVersion, clock, logger }),
    logger,
    maxRequestBytes: config.maxRequestBytes,
  });
  const grpcListener = createGrpcListener({
    registrations,
    host: config.host,
    port: config.grpcPort,
    health,
    logger,
    maxRequestBytes: config.maxRequestBytes,
  });

  const metricsServer = createMetricsServer({ registry: metrics.registry, host: config.host, port: config.metricsPort, logger });

  let opened = false;
  return {
    logger,
    snapshots,
    policies,
    metrics,
    async start() {
      await store.open();
      opened = true;
      await snapshots.refresh();
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
      logger.info(
        { port, grpc_port: grpcPort, metrics_port: metricsPort, tracing: tracing !== undefined, snapshot_version: snapshots.current().version },
        "residency is serving",
      );
      return { port, grpcPort, metricsPort };
    },
    async stop() {
      health.setAll("NOT_SERVING");
      await Promise.all([connectListener.stop(config.shutdownGraceMs), grpcListener.stop(config.shutdownGraceMs)]);
      await bus.close();
      if (opened) await store.close();
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
