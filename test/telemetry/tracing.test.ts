import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { pino } from "pino";
import { loadConfig } from "../../src/config.js";
import { createSnapshotHolder } from "../../src/snapshot/snapshot-holder.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { telemetryMiddleware } from "../../src/telemetry/telemetry-middleware.js";
import { createTracing } from "../../src/telemetry/tracing.js";
import { connectJson } from "../support/connect-json.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

const exporter = new InMemorySpanExporter();
let t: TestApp;

const serverSpans = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER && s.name === `residency.v1.ResidencyService/${name}`);

beforeAll(async () => {
  t = await startTestApp({}, undefined, { spanExporter: exporter });
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  await admin.createPolicy({
    policy: { tenantId: "acme-edu", primaryRegion: "us-east", allowedRegions: ["us-west"], prohibitedRegions: ["eu-west"] },
  });
  await admin.createPolicy({ policy: { tenantId: "acme-edu", learnerId: "student-123", allowedRegions: ["ca-central"] } });
});
afterAll(async () => {
  await t.cleanup();
});
beforeEach(() => exporter.reset());

describe("a server span per RPC", () => {
  it("continues the caller's W3C trace and carries the decision's attributes (Connect JSON)", async () => {
    const res = await connectJson(
      t.baseUrl,
      "residency.v1.ResidencyService/ResolveAccess",
      { tenantId: "acme-edu", learnerId: "student-123", operation: "OPERATION_READ", requestedRegion: "ca-central" },
      { ...t.authHeaders, traceparent: TRACEPARENT, "x-request-id": "req-trace-1" },
    );
    expect(res.status).toBe(200);
    const [span, ...others] = serverSpans("ResolveAccess");
    expect(others).toHaveLength(0);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(span!.attributes).toMatchObject({
      "rpc.system": "connect_rpc",
      "rpc.service": "residency.v1.ResidencyService",
      "rpc.method": "ResolveAccess",
      "residency.tenant_id": "acme-edu",
      "residency.learner_id": "student-123",
      "residency.requested_region": "ca-central",
      "residency.region": "ca-central",
      "residency.operation": "read",
      "residency.decision": "allow",
      "residency.reason_codes": ["ALLOWED_REGION"],
      "residency.snapshot_version": Number(res.body.snapshotVersion),
      "residency.request_id": "req-trace-1",
    });
    expect(span!.attributes["rpc.connect_rpc.error_code"]).toBeUndefined();
    expect(span!.resource.attributes["service.name"]).toBe("residency");
  });

  it("records a deny and the gRPC status code on the native listener", async () => {
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
    await client.resolveAccess(
      { tenantId: "acme-edu", operation: Operation.WRITE, requestedRegion: "eu-west" },
      { headers: { traceparent: TRACEPARENT } },
    );
    const [span] = serverSpans("ResolveAccess");
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.grpc.status_code": 0,
      "residency.decision": "deny",
      "residency.region": "eu-west",
      "residency.operation": "write",
    });
    expect(span!.attributes["residency.reason_codes"]).toContain("REGION_PROHIBITED");
    expect(span!.attributes["residency.learner_id"]).toBeUndefined();
  });

  it("starts a new trace when the caller sends none, and marks the caller's mistakes without an error status", async () => {
    const res = await connectJson(t.baseUrl, "residency.v1.ResidencyService/ResolveAccess", {
      tenantId: "acme-edu",
      operation: "OPERATION_READ",
      requestedRegion: "mars-1",
    }, t.authHeaders);
    expect(res.status).toBe(400);
    const [span] = serverSpans("ResolveAccess");
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span!.attributes["rpc.connect_rpc.error_code"]).toBe("invalid_argument");
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("gives a batch one span with its size and allow/deny counts", async () => {
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    const requests = Array.from({ length: 250 }, (_, i) => ({
      tenantId: "acme-edu",
      operation: Operation.READ,
      requestedRegion: i % 5 === 0 ? "eu-west" : "us-east",
    }));
    await client.batchResolveAccess({ requests }, { headers: { traceparent: TRACEPARENT } });
    const spans = exporter.getFinishedSpans();
    expect(spans.filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1);
    const [span] = serverSpans("BatchResolveAccess");
    expect(span!.attributes).toMatchObject({
      "residency.batch_size": 250,
      "residency.allowed_count": 200,
      "residency.denied_count": 50,
      "rpc.grpc.status_code": 0,
    });
  });

  it("reads GetEffectivePolicy's request and answer", async () => {
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    await client.getEffectivePolicy({ tenantId: "acme-edu", learnerId: "student-123" });
    const [span] = serverSpans("GetEffectivePolicy");
    expect(span!.attributes).toMatchObject({
      "residency.tenant_id": "acme-edu",
      "residency.learner_id": "student-123",
      "residency.primary_region": "us-east",
    });
    expect(span!.attributes["residency.snapshot_version"]).toBeGreaterThan(0);
  });

  it("makes store queries child spans of the RPC's span", async () => {
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    await admin.createPolicy({ policy: { tenantId: "other-edu", primaryRegion: "eu-central" } }, { headers: { traceparent: TRACEPARENT } });
    const spans = exporter.getFinishedSpans();
    const rpc = spans.find((s) => s.name === "residency.v1.AdminService/CreatePolicy")!;
    const write = spans.find((s) => s.name === "PolicyStore.createPolicy")!;
    expect(rpc.spanContext().traceId).toBe(TRACE_ID);
    expect(write.spanContext().traceId).toBe(TRACE_ID);
    expect(write.parentSpanContext?.spanId).toBe(rpc.spanContext().spanId);
    expect(write.attributes).toMatchObject({ "db.system.name": "sqlite", "db.operation.name": "createPolicy" });
    // The snapshot catch-up the write triggers (a delta read) is traced too, in the same trace.
    expect(spans.some((s) => s.name === "PolicyStore.loadChangesSince" && s.spanContext().traceId === TRACE_ID)).toBe(true);
  });

  it("does not trace health pings outside a trace", async () => {
    expect((await fetch(`${t.baseUrl}/health/db`)).status).toBe(200);
    expect(exporter.getFinishedSpans().filter((s) => s.name === "PolicyStore.ping")).toHaveLength(0);
  });
});

describe("tracing off", () => {
  it("is off when nothing is configured, and then no tracing middleware is installed", () => {
    const config = loadConfig({});
    expect(config.tracing).toBeUndefined();
    const tracing = createTracing({ config: config.tracing, serviceVersion: "test" });
    expect(tracing).toBeUndefined();
    const snapshots = createSnapshotHolder({ load: async () => { throw new Error("unused"); }, logger: { info() {}, error() {} } });
    const metrics = createMetrics({ regionIds: [], snapshots, clock: Date.now, processMetrics: false });
    const chain = telemetryMiddleware({ tracing, metrics, logger: pino({ level: "silent" }) });
    const withTracing = telemetryMiddleware({ tracing: createTracing({ config: undefined, serviceVersion: "t", exporter: new InMemorySpanExporter() }), metrics, logger: pino({ level: "silent" }) });
    expect(withTracing.length - chain.length).toBe(1);
  });
});

describe("OTLP export", () => {
  let collector: Server;
  const received: { path: string; contentType: string; bytes: number }[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", bytes: Buffer.concat(chunks).length });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it("sends spans as OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT, flushed when the app stops", async () => {
    const { port } = collector.address() as AddressInfo;
    const app = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    try {
      const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: app.baseUrl, interceptors: [app.auth] }));
      await client.listRegions({});
      // The batch processor waits up to 5 s; stopping the app must flush it.
      expect(received).toHaveLength(0);
    } finally {
      await app.cleanup();
    }
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]).toMatchObject({ path: "/v1/traces", contentType: "application/x-protobuf" });
    expect(received[0]!.bytes).toBeGreaterThan(0);
  });
});
