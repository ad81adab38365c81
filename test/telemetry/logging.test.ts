import { Writable } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, Operation } from "../../gen/residency/v1/types_pb.js";
import type { LogLevel } from "../../src/config.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { TEST_ADMIN_SUBJECT } from "../support/auth.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

/** A pino destination that keeps every JSON line. */
function captureLines(): { stream: Writable; lines: () => Record<string, any>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

async function appWithLogs(level: LogLevel, tracing: boolean) {
  const capture = captureLines();
  const t = await startTestApp({}, undefined, {
    logger: createLogger(level, capture.stream),
    ...(tracing ? { spanExporter: new InMemorySpanExporter() } : {}),
  });
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  await admin.createPolicy({
    policy: {
      tenantId: "acme-edu",
      primaryRegion: "us-east",
      allowedRegions: ["us-west"],
      prohibitedRegions: ["eu-west"],
      complianceFrameworks: [ComplianceFramework.FERPA],
    },
  });
  return { t, capture, residency: createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] })) };
}

describe("decision logs at debug", () => {
  let app: Awaited<ReturnType<typeof appWithLogs>>;
  beforeAll(async () => {
    app = await appWithLogs("debug", true);
  });
  afterAll(async () => {
    await app.t.cleanup();
  });

  it("writes one JSON line per decision with the seed's fields and the trace id", async () => {
    await app.residency.resolveAccess(
      { tenantId: "acme-edu", learnerId: "student-123", operation: Operation.READ, requestedRegion: "us-west" },
      { headers: { "x-request-id": "req-log-1", traceparent: TRACEPARENT } },
    );
    const line = app.capture.lines().find((l) => l.request_id === "req-log-1");
    expect(line).toMatchObject({
      level: "DEBUG",
      message: "data access resolved",
      tenant_id: "acme-edu",
      learner_id: "student-123",
      user_id: TEST_ADMIN_SUBJECT,
      region: "us-west",
      compliance_frameworks: ["ferpa"],
      operation_type: "read",
      emergency_override: false,
      request_id: "req-log-1",
      decision: "allow",
      trace_id: TRACE_ID,
    });
    expect(new Date(line!.timestamp).toISOString()).toBe(line!.timestamp);
  });

  it("logs each item of a batch, with its position", async () => {
    await app.residency.batchResolveAccess(
      { requests: [{ tenantId: "acme-edu", operation: Operation.READ }, { tenantId: "acme-edu", operation: Operation.SEARCH }] },
      { headers: { "x-request-id": "req-batch" } },
    );
    const lines = app.capture.lines().filter((l) => l.request_id === "req-batch");
    expect(lines.map((l) => [l.batch_index, l.operation_type])).toEqual([
      [0, "read"],
      [1, "search"],
    ]);
  });
});

describe("decision logs at info", () => {
  let app: Awaited<ReturnType<typeof appWithLogs>>;
  beforeAll(async () => {
    app = await appWithLogs("info", false);
  });
  afterAll(async () => {
    await app.t.cleanup();
  });

  it("leaves allowed decisions out and logs denies with the rules that denied", async () => {
    await app.residency.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ }, { headers: { "x-request-id": "req-ok" } });
    await app.residency.resolveAccess(
      { tenantId: "acme-edu", operation: Operation.WRITE, requestedRegion: "eu-west" },
      { headers: { "x-request-id": "req-deny" } },
    );
    const lines = app.capture.lines();
    expect(lines.filter((l) => l.request_id === "req-ok")).toHaveLength(0);
    const deny = lines.find((l) => l.request_id === "req-deny");
    expect(deny).toMatchObject({
      level: "INFO",
      message: "data access denied",
      decision: "deny",
      region: "eu-west",
      operation_type: "write",
      user_id: TEST_ADMIN_SUBJECT,
    });
    expect(deny!.violations).toContainEqual({ code: "REGION_PROHIBITED", framework: "none" });
    expect(deny!.trace_id).toBeUndefined();
  });
});

describe("createLogger", () => {
  it("redacts tokens and secrets wherever they are logged", () => {
    const capture = captureLines();
    const logger = createLogger("info", capture.stream);
    logger.info(
      {
        token: "tok-top",
        headers: { authorization: "Bearer abc.def", "x-api-key": "key-1", accept: "application/json" },
        request: { password: "hunter2", access_token: "at-1", headers: { cookie: "session=s1" } },
        client: { clientSecret: "cs-1", id: "client-1" },
      },
      "something with credentials",
    );
    const [line] = capture.lines();
    const text = JSON.stringify(line);
    for (const secret of ["tok-top", "abc.def", "key-1", "hunter2", "at-1", "session=s1", "cs-1"]) expect(text).not.toContain(secret);
    expect(line!.token).toBe("[redacted]");
    expect(line!.headers.authorization).toBe("[redacted]");
    expect(line!.headers.accept).toBe("application/json");
    expect(line!.client.id).toBe("client-1");
  });

  it("adds the active span's trace id when given a source for it", () => {
    const capture = captureLines();
    let active: string | undefined = "abc123";
    const logger = createLogger("info", { destination: capture.stream, traceId: () => active });
    logger.info({ x: 1 }, "inside a span");
    active = undefined;
    logger.info({ x: 2 }, "outside");
    const [inside, outside] = capture.lines();
    expect(inside).toMatchObject({ trace_id: "abc123", message: "inside a span", level: "INFO", service: "residency" });
    expect(outside!.trace_id).toBeUndefined();
  });
});
