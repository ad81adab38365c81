import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { AuditEventKind, type AuditEvent } from "../../gen/residency/v1/audit_pb.js";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework, Operation, RegionStatus } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
const transport = (baseUrl: string, token?: string) =>
  createGrpcTransport({
    baseUrl,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${token ?? t.adminToken}`);
        return next(req);
      },
    ],
  });
const admin = () => createClient(AdminService, transport(t.baseUrl));
const residency = (baseUrl = t.grpcUrl) => createClient(ResidencyService, transport(baseUrl));
const audit = (baseUrl = t.baseUrl, token?: string) => createClient(AuditService, transport(baseUrl, token));
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected failure"); }, (e: unknown) => ConnectError.from(e));
const withRequestId = (id: string) => ({ headers: { "x-request-id": id } });

/** Opens a stream, waits until the server holds the subscription, and collects what arrives. */
async function openStream(client: Client<typeof AuditService>, request: Parameters<Client<typeof AuditService>["streamAuditEvents"]>[0]) {
  const abort = new AbortController();
  const events: AuditEvent[] = [];
  const before = t.app.audit.hub.subscribers;
  const done = (async () => {
    for await (const res of client.streamAuditEvents(request, { signal: abort.signal })) events.push(res.event!);
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  await until(() => t.app.audit.hub.subscribers > before);
  return { events, abort, done };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(10);
  }
}

beforeAll(async () => {
  t = await startTestApp({ AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AUDIT_FLUSH_MS: "20" });
  await admin().createPolicy({ policy: { tenantId: "acme", primaryRegion: "us-east", allowedRegions: ["us-west"], complianceFrameworks: [ComplianceFramework.FERPA] } });
  await admin().createPolicy({ policy: { tenantId: "acme", learnerId: "kid-1", allowedRegions: ["ca-central"] } });
  await admin().createPolicy({
    policy: {
      tenantId: "ai-school", primaryRegion: "us-east", complianceFrameworks: [ComplianceFramework.FERPA, ComplianceFramework.CCPA], inferenceProviders: ["anthropic"],
    },
  });
});
afterAll(async () => {
  await t.cleanup();
});

describe("audit over the API", () => {
  it("records every decision (ResolveAccess, each batch item, PresignObjectUrl) with its fields", async () => {
    const single = await residency().resolveAccess(
      { tenantId: "acme", learnerId: "kid-1", operation: Operation.WRITE, resourceType: "document", resourceId: "doc-9", requestedRegion: "ca-central", callerRegion: "us-west" },
      withRequestId("req-single"),
    );
    const batch = await residency(t.baseUrl).batchResolveAccess(
      { requests: [{ tenantId: "acme", operation: Operation.READ, resourceId: "b-0" }, { tenantId: "acme", operation: Operation.READ, requestedRegion: "eu-west", resourceId: "b-1" }] },
      withRequestId("req-batch"),
    );
    const presigned = await residency().presignObjectUrl({ tenantId: "acme", operation: Operation.READ, objectKey: "reports/q1.pdf" }, withRequestId("req-presign"));
    await t.app.audit.flush();

    const { entries } = await audit().listAccessLogs({ tenantId: "acme", pageSize: 10 });
    expect(entries.map((e) => e.requestId)).toEqual(["req-presign", "req-batch", "req-batch", "req-single"]);
    const [p, b1, b0, s] = entries;
    expect(s).toMatchObject({
      decisionId: single.decisionId,
      tenantId: "acme",
      learnerId: "kid-1",
      actor: "test-admin",
      operation: Operation.WRITE,
      resourceType: "document",
      resourceId: "doc-9",
      requestedRegion: "ca-central",
      targetRegion: "ca-central",
      callerRegion: "us-west",
      allowed: true,
      reasonCodes: single.reasons.map((r) => r.code),
      policyId: single.policyId,
      policyVersion: single.policyVersion,
      snapshotVersion: single.snapshotVersion,
      emergencyOverrideId: "",
    });
    expect(s!.seq).toBeGreaterThan(0n);
    expect(s!.time).toEqual(single.decideTime);
    expect(b0).toMatchObject({ decisionId: batch.responses[0]!.decisionId, resourceId: "b-0", allowed: true, targetRegion: "us-east" });
    expect(b1).toMatchObject({ decisionId: batch.responses[1]!.decisionId, resourceId: "b-1", allowed: false, targetRegion: "eu-west" });
    expect(b1!.seq).toBe(b0!.seq + 1n);
    expect(p).toMatchObject({ decisionId: presigned.decision!.decisionId, resourceType: "object", resourceId: "reports/q1.pdf", allowed: true });

    // Filters.
    const denied = await audit().listAccessLogs({ tenantId: "acme", allowed: false });
    expect(denied.entries.map((e) => e.resourceId)).toEqual(["b-1"]);
    const learner = await audit().listAccessLogs({ tenantId: "acme", learnerId: "kid-1" });
    expect(learner.entries.map((e) => e.requestId)).toEqual(["req-single"]);
  });

  it("records a violation per denying cross-region or framework rule", async () => {
    await residency().resolveAccess({ tenantId: "ai-school", operation: Operation.INFERENCE }, withRequestId("req-infer"));
    await residency().resolveAccess({ tenantId: "ai-school", operation: Operation.READ, requestedRegion: "eu-west" }, withRequestId("req-pin"));
    await residency().resolveAccess({ tenantId: "nobody", operation: Operation.READ }, withRequestId("req-nopolicy"));
    await t.app.audit.flush();

    const { violations } = await audit().listViolations({ tenantId: "ai-school" });
    expect(violations.map((v) => [v.requestId, v.framework, v.reasonCode])).toEqual([
      ["req-pin", ComplianceFramework.UNSPECIFIED, ReasonCode.REGION_NOT_ALLOWED],
      ["req-infer", ComplianceFramework.FERPA, ReasonCode.FERPA_PROVIDER_NOT_PERMITTED],
    ]);
    expect(violations[0]).toMatchObject({ tenantId: "ai-school", actor: "test-admin", requestedRegion: "eu-west", targetRegion: "eu-west", primaryRegion: "us-east" });
    const ferpa = await audit().listViolations({ framework: ComplianceFramework.FERPA });
    expect(ferpa.violations.map((v) => v.requestId)).toEqual(["req-infer"]);
    // A deny without a rule broken (no policy) is recorded, but is no violation.
    expect((await audit().listAccessLogs({ tenantId: "nobody" })).entries.map((e) => e.reasonCodes)).toEqual([[ReasonCode.NO_POLICY]]);
    expect((await audit().listViolations({ tenantId: "nobody" })).violations).toEqual([]);
  });

  it("pages access logs newest first with tokens tied to their filter", async () => {
    for (let i = 0; i < 7; i++) await residency().resolveAccess({ tenantId: "pager", operation: Operation.READ }, withRequestId(`page-${i}`));
    await t.app.audit.flush();
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await audit().listAccessLogs({ tenantId: "pager", pageSize: 3, pageToken });
      seen.push(...page.entries.map((e) => e.requestId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(["page-6", "page-5", "page-4", "page-3", "page-2", "page-1", "page-0"]);
    const first = await audit().listAccessLogs({ tenantId: "pager", pageSize: 3 });
    const err = await failure(audit().listAccessLogs({ tenantId: "pager", allowed: true, pageSize: 3, pageToken: first.nextPageToken }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect((await failure(audit().listAccessLogs({ tenantId: "" }))).code).toBe(Code.InvalidArgument);
  });

  it("streams admin events written after it opened, with actor, request id, before and after", async () => {
    const stream = await openStream(audit(), {
      kinds: [AuditEventKind.POLICY_CREATED, AuditEventKind.POLICY_UPDATED, AuditEventKind.POLICY_DELETED, AuditEventKind.REGION_STATUS_CHANGED],
    });
    const created = await admin().createPolicy({ policy: { tenantId: "streamed", primaryRegion: "eu-west" } }, withRequestId("req-create"));
    const updated = await admin().updatePolicy({ policy: { ...created.policy!, allowedRegions: ["eu-central"] }, expectedVersion: 1n }, withRequestId("req-update"));
    await admin().deletePolicy({ policyId: created.policy!.policyId, expectedVersion: 2n }, withRequestId("req-delete"));
    await admin().setRegionStatus({ region: "apac-south", status: RegionStatus.DEGRADED, reason: "drill" }, withRequestId("req-region"));
    await until(() => stream.events.length >= 4);
    stream.abort.abort();
    await stream.done;

    expect(stream.events.map((e) => [e.kind, e.requestId, e.actor, e.subjectId])).toEqual([
      [AuditEventKind.POLICY_CREATED, "req-create", "test-admin", created.policy!.policyId],
      [AuditEventKind.POLICY_UPDATED, "req-update", "test-admin", created.policy!.policyId],
      [AuditEventKind.POLICY_DELETED, "req-delete", "test-admin", created.policy!.policyId],
      [AuditEventKind.REGION_STATUS_CHANGED, "req-region", "test-admin", "apac-south"],
    ]);
    const [c, u, d, r] = stream.events;
    expect(c!.beforeJson).toBe("");
    expect(JSON.parse(c!.afterJson)).toMatchObject({ tenantId: "streamed", version: 1, primaryRegion: "eu-west" });
    expect(JSON.parse(u!.afterJson)).toMatchObject({ version: Number(updated.policy!.version), allowedRegions: ["eu-central"] });
    expect(u!.beforeJson).toBe(c!.afterJson);
    expect(d!.afterJson).toBe("");
    expect(JSON.parse(r!.afterJson)).toMatchObject({ regionId: "apac-south", status: "DEGRADED", reason: "drill", updatedBy: "test-admin" });
    for (const [i, e] of stream.events.entries()) {
      expect(e.tenantId).toBe(i < 3 ? "streamed" : "");
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.hashVersion).toBe(1);
      if (i > 0) expect(e.seq).toBeGreaterThan(stream.events[i - 1]!.seq);
    }
    await until(() => t.app.audit.hub.subscribers === 0);
  });

  it("streams decisions on both listeners, filtered by tenant, linked into the chain", async () => {
    const onConnect = await openStream(audit(t.baseUrl), { tenantId: "live" });
    const onGrpc = await openStream(audit(t.grpcUrl), { tenantId: "live", kinds: [AuditEventKind.DECISION] });
    const answer = await residency().resolveAccess({ tenantId: "live", operation: Operation.READ }, withRequestId("req-live"));
    await residency().resolveAccess({ tenantId: "other", operation: Operation.READ });
    await until(() => onConnect.events.length >= 1 && onGrpc.events.length >= 1);
    await sleep(300); // nothing else arrives: the other tenant's decision is filtered out
    for (const stream of [onConnect, onGrpc]) {
      stream.abort.abort();
      await stream.done;
      expect(stream.events).toHaveLength(1);
      expect(stream.events[0]).toMatchObject({ kind: AuditEventKind.DECISION, tenantId: "live", requestId: "req-live" });
      expect(stream.events[0]!.decision).toMatchObject({ decisionId: answer.decisionId, tenantId: "live" });
    }
    expect(onConnect.events[0]!.hash).toBe(onGrpc.events[0]!.hash);
    await until(() => t.app.audit.hub.subscribers === 0);
  });

  it("verifies the chain for a caller that sees every tenant, and scopes tenant-bound auditors", async () => {
    await t.app.audit.flush();
    const verdict = await audit().verifyAuditChain({});
    expect(verdict).toMatchObject({ valid: true, firstBadSeq: 0n, problem: "" });
    expect(verdict.checked).toBe(verdict.headSeq);
    expect(verdict.headSeq).toBeGreaterThan(10n);
    expect(verdict.headHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await audit().verifyAuditChain({ fromSeq: 2n, toSeq: 4n })).toMatchObject({ valid: true, checked: 3n });
    expect((await failure(audit().verifyAuditChain({ fromSeq: 5n, toSeq: 2n }))).code).toBe(Code.InvalidArgument);

    const auditor = await t.token({ sub: "acme-auditor", roles: ["auditor"], tenants: ["acme"] });
    const scoped = audit(t.baseUrl, auditor);
    expect((await failure(scoped.verifyAuditChain({}))).code).toBe(Code.PermissionDenied);
    expect((await failure(scoped.listAccessLogs({ tenantId: "ai-school" }))).code).toBe(Code.PermissionDenied);
    expect((await scoped.listAccessLogs({ tenantId: "acme" })).entries.length).toBeGreaterThan(0);
    const all = await scoped.listViolations({});
    expect(all.violations.every((v) => v.tenantId === "acme")).toBe(true);
    expect(all.violations.length).toBeGreaterThan(0);
  });
});

describe("audit back-pressure and shutdown", () => {
  it("sheds decisions with UNAVAILABLE when the queue is full, and says so in metrics", async () => {
    const small = await startTestApp({ AUDIT_QUEUE_MAX: "5", AUDIT_BATCH_SIZE: "1000", AUDIT_FLUSH_MS: "60000" });
    try {
      const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: small.grpcUrl, interceptors: [small.auth] }));
      for (let i = 0; i < 5; i++) await client.resolveAccess({ tenantId: "x", operation: Operation.READ });
      const err = await failure(client.resolveAccess({ tenantId: "x", operation: Operation.READ }));
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toMatch(/audit/);
      const text = await (await fetch(`${small.metricsUrl}/metrics`)).text();
      expect(text).toMatch(/^residency_audit_shed_decisions_total 1$/m);
      // Once the writer catches up, decisions flow again; nothing that was answered is missing.
      await small.app.audit.flush();
      await client.resolveAccess({ tenantId: "x", operation: Operation.READ });
      await small.app.audit.flush();
      const logs = createClient(AuditService, createGrpcTransport({ baseUrl: small.baseUrl, interceptors: [small.auth] }));
      expect((await logs.listAccessLogs({ tenantId: "x" })).entries).toHaveLength(6);
      expect(await (await fetch(`${small.metricsUrl}/metrics`)).text()).toMatch(/^residency_audit_entries_written_total 6$/m);
    } finally {
      await small.cleanup();
    }
  });

  it("ends live streams cleanly on shutdown, and flushes the queue to the database", async () => {
    const app = await startTestApp({ AUDIT_FLUSH_MS: "60000", AUDIT_BATCH_SIZE: "1000" });
    const logs = createClient(AuditService, createGrpcTransport({ baseUrl: app.grpcUrl, interceptors: [app.auth] }));
    const received: AuditEvent[] = [];
    const streaming = (async () => {
      for await (const res of logs.streamAuditEvents({})) received.push(res.event!);
    })();
    await until(() => app.app.audit.hub.subscribers === 1);
    const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: app.grpcUrl, interceptors: [app.auth] }));
    for (let i = 0; i < 3; i++) await client.resolveAccess({ tenantId: "y", operation: Operation.READ }, withRequestId(`bye-${i}`));
    await app.stop();
    await expect(streaming).resolves.toBeUndefined(); // ended with OK, not an error
    // Reopen on the same data directory: the queued decisions were written at shutdown.
    const again = await startTestApp({}, app.dataDir);
    try {
      const reader = createClient(AuditService, createGrpcTransport({ baseUrl: again.baseUrl, interceptors: [again.auth] }));
      expect((await reader.listAccessLogs({ tenantId: "y" })).entries.map((e) => e.requestId)).toEqual(["bye-2", "bye-1", "bye-0"]);
      expect(await reader.verifyAuditChain({})).toMatchObject({ valid: true });
    } finally {
      await again.cleanup();
    }
  });
});
