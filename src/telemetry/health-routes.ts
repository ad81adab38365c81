import type { HttpRequest, HttpResponse } from "../transport/http-exchange.js";
import type { HealthState } from "../transport/health-state.js";
import type { SnapshotHolder } from "../snapshot/snapshot-holder.js";
import type { PolicyStore } from "../store/policy-store.js";

export interface HealthRoutesOptions {
  /** The state grpc.health.v1 reports: the overall "" status is readiness for both. */
  readonly health: HealthState;
  readonly snapshots: SnapshotHolder;
  readonly store: Pick<PolicyStore, "ping">;
  /** The service version (package.json). */
  readonly version: string;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** A ping slower than this counts as down. @default 2000 */
  readonly pingTimeoutMs?: number;
  /** Told why a ping failed (the HTTP answer does not say, so that no connection detail leaks). */
  readonly logger?: { warn(obj: object, msg: string): void };
  /** How this replica keeps its snapshot in step (store and bus in use, bus connection, last confirmation). */
  readonly replication?: () => ReplicationHealth;
}

export interface ReplicationHealth {
  readonly store: string;
  readonly bus: string;
  readonly busConnected: boolean;
  /** Epoch milliseconds when the store last confirmed the snapshot current. */
  readonly syncedAt: number | undefined;
  /** No confirmation for longer than the staleness bound allows (the store is unreachable): decisions go on. */
  readonly stale: boolean;
  readonly gaps: number;
}

/**
 * Plain HTTP health endpoints for load balancers and people, for the Connect listener's `httpRoutes`:
 * GET /health (readiness, version, snapshot), /health/db (a store round trip), /health/regions (every
 * region's status in the snapshot). JSON; 200 when healthy, 503 otherwise.
 */
export function healthRoutes(options: HealthRoutesOptions): (req: HttpRequest, res: HttpResponse) => boolean {
  const { health, snapshots, clock } = options;
  const pingTimeoutMs = options.pingTimeoutMs ?? 2_000;

  const service = () => {
    const ready = health.get("") === "SERVING";
    const snapshot = snapshots.loaded ? snapshots.current() : undefined;
    const replication = options.replication?.();
    return {
      status: ready ? 200 : 503,
      body: {
        status: ready ? "serving" : "not_serving",
        service: "residency",
        version: options.version,
        snapshot:
          snapshot === undefined
            ? null
            : {
                version: snapshot.version,
                age_seconds: Math.max(0, (clock() - snapshot.builtAt) / 1000),
                policies: snapshot.policyCount,
                reload_failures: snapshots.failedRefreshes,
                // Seconds since the store last confirmed this snapshot current (age_seconds counts from the last change).
                synced_age_seconds: replication?.syncedAt === undefined ? null : Math.max(0, (clock() - replication.syncedAt) / 1000),
              },
        replication:
          replication === undefined
            ? undefined
            : {
                store: replication.store,
                bus: replication.bus,
                bus_connected: replication.busConnected,
                stale: replication.stale,
                version_gaps: replication.gaps,
              },
      },
    };
  };

  const database = async () => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        options.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`ping timed out after ${pingTimeoutMs} ms`)), pingTimeoutMs);
        }),
      ]);
      return { status: 200, body: { status: "up", latency_ms: roundMs(performance.now() - started) } };
    } catch (err) {
      options.logger?.warn({ err }, "health check: the store did not answer a ping");
      return {
        status: 503,
        body: { status: "down", latency_ms: roundMs(performance.now() - started), error: "the database did not answer" },
      };
    } finally {
      clearTimeout(timer);
    }
  };

  const regions = () => {
    if (!snapshots.loaded) return { status: 503, body: { status: "unknown", snapshot_version: null, regions: [] } };
    const snapshot = snapshots.current();
    const list = snapshot.regions.map((r) => ({
      id: r.id,
      display_name: r.displayName,
      status: r.status.toLowerCase(),
      reason: r.statusReason,
      updated_at: r.statusUpdatedAt === undefined ? null : new Date(r.statusUpdatedAt).toISOString(),
    }));
    const down = snapshot.regions.filter((r) => r.status === "DOWN").length;
    const healthy = snapshot.regions.filter((r) => r.status === "HEALTHY").length;
    const allDown = snapshot.regions.length > 0 && down === snapshot.regions.length;
    return {
      status: allDown ? 503 : 200,
      body: {
        status: allDown ? "down" : healthy === snapshot.regions.length ? "healthy" : "degraded",
        snapshot_version: snapshot.version,
        regions: list,
      },
    };
  };

  const routes: Record<string, () => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>> = {
    "/health": service,
    "/health/db": database,
    "/health/regions": regions,
  };

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const route = routes[query === -1 ? url : url.slice(0, query)];
    if (route === undefined) return false;
    Promise.resolve()
      .then(route)
      .then(
        ({ status, body }) => send(req, res, status, body),
        () => send(req, res, 500, { status: "error" }),
      );
    return true;
  };
}

function send(req: HttpRequest, res: HttpResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(text));
  if (req.method === "HEAD") res.end();
  else res.end(text);
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
