import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import type { Region } from "../../src/domain/region.js";
import { UnavailableError } from "../../src/domain/errors.js";
import { buildSnapshot } from "../../src/snapshot/snapshot.js";
import { createSnapshotHolder, type SnapshotHolder } from "../../src/snapshot/snapshot-holder.js";
import { healthRoutes } from "../../src/telemetry/health-routes.js";
import { readServiceVersion } from "../../src/telemetry/service-version.js";
import { createHealthState, type HealthState } from "../../src/transport/health-state.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const quiet = { info() {}, error() {}, warn() {} };

function holderWith(regions: readonly Region[]): SnapshotHolder {
  return createSnapshotHolder({
    logger: quiet,
    load: async () => buildSnapshot({ version: 3, regions, policies: [], defaultRegion: undefined, builtAt: 1_000 }),
  });
}

describe("health routes", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** Serves only the health routes (404 for the rest), as the Connect listener's httpRoutes hook would. */
  async function serve(options: { health: HealthState; snapshots: SnapshotHolder; ping: () => Promise<void>; pingTimeoutMs?: number }) {
    const routes = healthRoutes({
      health: options.health,
      snapshots: options.snapshots,
      store: { ping: options.ping },
      version: "1.2.3",
      clock: () => 11_000,
      logger: quiet,
      ...(options.pingTimeoutMs === undefined ? {} : { pingTimeoutMs: options.pingTimeoutMs }),
    });
    server = createServer((req, res) => {
      if (!routes(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return async (path: string) => {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get("content-type")).toBe("application/json");
      return { status: res.status, body: (await res.json()) as any };
    };
  }

  it("answers 503 before the first snapshot and 200 once serving", async () => {
    const health = createHealthState();
    health.setAll("NOT_SERVING");
    const snapshots = holderWith(DEFAULT_REGIONS);
    const get = await serve({ health, snapshots, ping: async () => undefined });

    expect(await get("/health")).toMatchObject({ status: 503, body: { status: "not_serving", version: "1.2.3", snapshot: null } });
    expect((await get("/health/regions")).status).toBe(503);

    await snapshots.refresh();
    health.setAll("SERVING");
    expect(await get("/health")).toMatchObject({
      status: 200,
      body: { status: "serving", version: "1.2.3", snapshot: { version: 3, age_seconds: 10, policies: 0, reload_failures: 0 } },
    });
    expect(await get("/health?verbose=1")).toMatchObject({ status: 200 });
  });

  it("answers 503 once shutdown has begun (the same state grpc.health.v1 reports)", async () => {
    const health = createHealthState();
    const snapshots = holderWith(DEFAULT_REGIONS);
    await snapshots.refresh();
    const get = await serve({ health, snapshots, ping: async () => undefined });
    expect((await get("/health")).status).toBe(200);
    health.setAll("NOT_SERVING");
    expect(await get("/health")).toMatchObject({ status: 503, body: { status: "not_serving" } });
  });

  it("reports the store's ping with its latency, and 503 when it fails or hangs, without the error's detail", async () => {
    const health = createHealthState();
    const snapshots = holderWith(DEFAULT_REGIONS);
    let ping: () => Promise<void> = async () => undefined;
    const get = await serve({ health, snapshots, ping: () => ping(), pingTimeoutMs: 100 });

    const up = await get("/health/db");
    expect(up).toMatchObject({ status: 200, body: { status: "up" } });
    expect(up.body.latency_ms).toBeGreaterThanOrEqual(0);

    ping = async () => {
      throw new UnavailableError("connect ECONNREFUSED postgres://admin:s3cret@db:5432");
    };
    const down = await get("/health/db");
    expect(down).toMatchObject({ status: 503, body: { status: "down" } });
    expect(JSON.stringify(down.body)).not.toContain("s3cret");

    ping = () => new Promise(() => undefined);
    expect(await get("/health/db")).toMatchObject({ status: 503, body: { status: "down" } });
  });

  it("lists every region's status: 200 while any region is up, 503 when all are DOWN", async () => {
    const health = createHealthState();
    const degraded = DEFAULT_REGIONS.map((r, i) => (i === 0 ? { ...r, status: "DOWN" as const, statusReason: "outage" } : r));
    const someDown = holderWith(degraded);
    await someDown.refresh();
    let get = await serve({ health, snapshots: someDown, ping: async () => undefined });
    const partial = await get("/health/regions");
    expect(partial).toMatchObject({ status: 200, body: { status: "degraded", snapshot_version: 3 } });
    expect(partial.body.regions).toHaveLength(DEFAULT_REGIONS.length);
    expect(partial.body.regions[0]).toMatchObject({ id: DEFAULT_REGIONS[0]!.id, status: "down", reason: "outage" });
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const allDown = holderWith(DEFAULT_REGIONS.map((r) => ({ ...r, status: "DOWN" as const })));
    await allDown.refresh();
    get = await serve({ health, snapshots: allDown, ping: async () => undefined });
    expect(await get("/health/regions")).toMatchObject({ status: 503, body: { status: "down" } });
  });
});

describe("health endpoints of the running service", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("answers /health, /health/db and /health/regions on the service port, agreeing with grpc.health.v1", async () => {
    const service = await fetch(`${t.baseUrl}/health`);
    expect(service.status).toBe(200);
    expect(await service.json()).toMatchObject({
      status: "serving",
      version: readServiceVersion(),
      snapshot: { version: t.app.snapshots.current().version },
    });
    expect(readServiceVersion()).toMatch(/^\d+\.\d+\.\d+/);

    const db = await fetch(`${t.baseUrl}/health/db`);
    expect(db.status).toBe(200);
    expect(await db.json()).toMatchObject({ status: "up" });

    const regions = await fetch(`${t.baseUrl}/health/regions`);
    expect(regions.status).toBe(200);
    const body = (await regions.json()) as { status: string; regions: { id: string; status: string }[] };
    expect(body.status).toBe("healthy");
    expect(body.regions.map((r) => r.id)).toEqual(DEFAULT_REGIONS.map((r) => r.id));

    const grpcHealth = createClient(Health, createGrpcTransport({ baseUrl: t.baseUrl }));
    expect((await grpcHealth.check({ service: "" })).status).toBe(Status.SERVING);
  });
});
