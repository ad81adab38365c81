import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ReasonCode, ReasonEffect } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, Operation } from "../../gen/residency/v1/types_pb.js";
import { DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";
import { buildSnapshot } from "../../src/snapshot/snapshot.js";
import { createSnapshotHolder } from "../../src/snapshot/snapshot-holder.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

/** The value of one sample line in the text exposition, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = (match[2] ?? "").split(/,(?=[a-z_]+=")/);
    if (wanted.every((w) => present.includes(w))) return Number(match[3]);
  }
  return 0;
}

describe("metrics on METRICS_PORT", () => {
  let t: TestApp;
  const scrape = async () => {
    const res = await fetch(`${t.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };

  beforeAll(async () => {
    t = await startTestApp();
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    await admin.createPolicy({
      policy: { tenantId: "acme-edu", primaryRegion: "us-east", allowedRegions: ["us-west"], prohibitedRegions: ["eu-west"] },
    });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("reports the snapshot, the registered metrics of later issues, and the process", async () => {
    const text = await scrape();
    expect(sample(text, "residency_policies_total")).toBe(1);
    expect(sample(text, "residency_snapshot_version")).toBe(t.app.snapshots.current().version);
    expect(sample(text, "residency_snapshot_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "residency_snapshot_reload_failures_total")).toBe(0);
    for (const name of [
      "emergency_overrides_total",
      "residency_propagation_lag_seconds",
      "residency_audit_queue_depth",
      "residency_audit_write_failures_total",
      "process_cpu_user_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect((await fetch(`${t.metricsUrl}/other`)).status).toBe(404);
  });

  it("moves the decision counters and the RPC histogram after calls, on both listeners", async () => {
    const before = await scrape();
    const onConnect = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    const onGrpc = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
    await onConnect.resolveAccess({ tenantId: "acme-edu", learnerId: "student-1", operation: Operation.READ, requestedRegion: "us-west" });
    await onGrpc.resolveAccess({ tenantId: "acme-edu", operation: Operation.WRITE, requestedRegion: "eu-west" });
    await onGrpc.batchResolveAccess({
      requests: [
        { tenantId: "acme-edu", operation: Operation.READ },
        { tenantId: "acme-edu", operation: Operation.READ },
        { tenantId: "nobody", operation: Operation.READ },
      ],
    });
    await onConnect.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "mars-1" }).catch(() => undefined);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta("data_access_requests_total", { region: "us-west", operation: "read", decision: "allow" })).toBe(1);
    expect(delta("data_access_requests_total", { region: "eu-west", operation: "write", decision: "deny" })).toBe(1);
    expect(delta("data_access_requests_total", { region: "us-east", operation: "read", decision: "allow" })).toBe(2);
    expect(delta("data_access_requests_total", { region: "none", operation: "read", decision: "deny" })).toBe(1);
    expect(delta("cross_region_access_total", { source: "us-east", target: "us-west", allowed: "true" })).toBe(1);
    expect(delta("cross_region_access_total", { source: "us-east", target: "eu-west", allowed: "false" })).toBe(1);
    expect(delta("compliance_violations_total", { framework: "none" })).toBe(2);
    expect(delta("residency_rpc_duration_seconds_count", { service: "ResidencyService", method: "ResolveAccess", code: "ok" })).toBe(2);
    expect(delta("residency_rpc_duration_seconds_count", { service: "ResidencyService", method: "BatchResolveAccess", code: "ok" })).toBe(1);
    expect(delta("residency_rpc_duration_seconds_count", { service: "ResidencyService", method: "ResolveAccess", code: "invalid_argument" })).toBe(1);
    // Bounded labels: no tenant or learner id ever appears.
    expect(after).not.toContain("acme-edu");
    expect(after).not.toContain("student-1");
    expect(after).not.toContain("mars-1");
  });

  it("counts admin RPCs and the policy gauge follows writes", async () => {
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
    await admin.createPolicy({ policy: { tenantId: "beta-edu", primaryRegion: "eu-central" } });
    const text = await scrape();
    expect(sample(text, "residency_policies_total")).toBe(2);
    expect(sample(text, "residency_rpc_duration_seconds_count", { service: "AdminService", method: "CreatePolicy", code: "ok" })).toBe(2);
  });
});

describe("createMetrics", () => {
  const snapshotAt = (version: number, builtAt: number) =>
    buildSnapshot({ version, regions: DEFAULT_REGIONS, policies: [], defaultRegion: undefined, builtAt });

  it("keeps region labels to the catalog, counts each denying framework once, and exposes the later issues' setters", async () => {
    let fail = false;
    const snapshots = createSnapshotHolder({
      load: async () => {
        if (fail) throw new Error("db down");
        return snapshotAt(7, 1_000);
      },
      logger: { info() {}, error() {} },
    });
    await snapshots.refresh();
    const metrics = createMetrics({ regionIds: DEFAULT_REGIONS.map((r) => r.id), snapshots, clock: () => 31_000, processMetrics: false });
    const deny = ReasonEffect.DENY;
    metrics.countDecision(Operation.INFERENCE, {
      allowed: false,
      targetRegion: "mars-1",
      primaryRegion: "eu-west",
      crossRegion: true,
      reasons: [
        { code: ReasonCode.GDPR_TRANSFER_NO_BASIS, effect: deny, framework: ComplianceFramework.GDPR },
        { code: ReasonCode.GDPR_PROVIDER_NOT_PERMITTED, effect: deny, framework: ComplianceFramework.GDPR },
        { code: ReasonCode.COPPA_PROVIDER_NOT_PERMITTED, effect: deny, framework: ComplianceFramework.COPPA },
        { code: ReasonCode.PRIMARY_REGION, effect: ReasonEffect.PASS },
      ],
    });
    metrics.observePropagationLag(0.2);
    metrics.setAuditQueueDepth(42);
    metrics.countAuditWriteFailures();
    metrics.countEmergencyOverride("approved");
    fail = true;
    await snapshots.refresh().catch(() => undefined);

    const text = await metrics.registry.metrics();
    expect(sample(text, "data_access_requests_total", { region: "other", operation: "inference", decision: "deny" })).toBe(1);
    expect(sample(text, "cross_region_access_total", { source: "eu-west", target: "other", allowed: "false" })).toBe(1);
    expect(sample(text, "compliance_violations_total", { framework: "gdpr" })).toBe(1);
    expect(sample(text, "compliance_violations_total", { framework: "coppa" })).toBe(1);
    expect(sample(text, "residency_propagation_lag_seconds_count")).toBe(1);
    expect(sample(text, "residency_audit_queue_depth")).toBe(42);
    expect(sample(text, "residency_audit_write_failures_total")).toBe(1);
    expect(sample(text, "emergency_overrides_total", { status: "approved" })).toBe(1);
    expect(sample(text, "residency_snapshot_version")).toBe(7);
    expect(sample(text, "residency_snapshot_age_seconds")).toBe(30);
    expect(sample(text, "residency_snapshot_reload_failures_total")).toBe(1);
    expect(text).not.toContain("mars-1");
    // A second scrape does not count the same failure twice.
    expect(sample(await metrics.registry.metrics(), "residency_snapshot_reload_failures_total")).toBe(1);
  });
});
