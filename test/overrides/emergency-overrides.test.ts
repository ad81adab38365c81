import { Code } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmergencyOverrideStatus } from "../../gen/residency/v1/override_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ComplianceFramework, Operation } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";
import { HOUR, REASON, clientsAs, codes, failure, testClock, violationsOf } from "./override-fixture.js";

let t: TestApp;
let clock: ReturnType<typeof testClock>;
let alice: Awaited<ReturnType<typeof clientsAs>>; // requester
let bob: Awaited<ReturnType<typeof clientsAs>>; // approver
let svc: Awaited<ReturnType<typeof clientsAs>>; // decisions

async function start(env: Record<string, string> = {}) {
  clock = testClock();
  t = await startTestApp(env, undefined, { clock: clock.now });
  const admin = await clientsAs(t, "policy-admin", ["admin"]);
  await admin.admin.createPolicy({
    policy: {
      tenantId: "acme-edu",
      primaryRegion: "us-east",
      allowedRegions: ["us-west"],
      prohibitedRegions: ["eu-west"],
      complianceFrameworks: [ComplianceFramework.FERPA],
    },
  });
  alice = await clientsAs(t, "alice", ["emergency-requester"], ["acme-edu"]);
  bob = await clientsAs(t, "bob", ["emergency-approver"], ["acme-edu"]);
  svc = await clientsAs(t, "svc", ["service"], ["acme-edu"]);
}

const requestFor = (over: Record<string, unknown> = {}) => ({
  tenantId: "acme-edu",
  reason: REASON,
  affectedLearners: ["student-123"],
  sourceRegion: "us-east",
  targetRegion: "eu-west",
  durationHours: 2,
  ...over,
});
const toEuWest = (learnerId = "student-123") =>
  svc.residency.resolveAccess({ tenantId: "acme-edu", learnerId, operation: Operation.READ, requestedRegion: "eu-west" });

afterEach(async () => {
  await t?.cleanup();
});

describe("RequestEmergencyOverride", () => {
  beforeEach(() => start());

  it("returns a PENDING override with who asked and when", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    expect(override).toMatchObject({
      overrideId: expect.stringMatching(/^ovr_/),
      tenantId: "acme-edu",
      reason: REASON,
      affectedLearners: ["student-123"],
      sourceRegion: "us-east",
      targetRegion: "eu-west",
      durationHours: 2,
      status: EmergencyOverrideStatus.PENDING,
      requestedBy: "alice",
      approvedBy: "",
      usageCount: 0n,
    });
    expect(override?.expiresAt).toBeUndefined();
    expect(Math.abs(timestampMs(override!.requestedAt!) - clock.now())).toBeLessThan(5_000);
  });

  it("rejects a duration over EMERGENCY_MAX_HOURS (72)", async () => {
    const err = await failure(alice.admin.requestEmergencyOverride(requestFor({ durationHours: 73 })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(violationsOf(err)).toEqual([["duration_hours", "range"]]);
    expect(err.rawMessage).toContain("from 1 to 72");
    expect((await alice.admin.requestEmergencyOverride(requestFor({ durationHours: 72 }))).override?.durationHours).toBe(72);
  });

  it("rejects a reason shorter than 20 characters", async () => {
    const err = await failure(alice.admin.requestEmergencyOverride(requestFor({ reason: "server down" })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(violationsOf(err)).toEqual([["reason", "min_length"]]);
  });

  it("reports every broken rule at once", async () => {
    const err = await failure(
      alice.admin.requestEmergencyOverride({
        tenantId: "acme-edu",
        reason: "   ",
        affectedLearners: ["ok-1", "bad id!", "ok-1"],
        sourceRegion: "mars-1",
        targetRegion: "",
        durationHours: 0,
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(violationsOf(err)).toEqual([
      ["reason", "min_length"],
      ["affected_learners[1]", "charset"],
      ["affected_learners[2]", "unique"],
      ["source_region", "region_exists"],
      ["target_region", "required"],
      ["duration_hours", "range"],
    ]);
    const same = await failure(alice.admin.requestEmergencyOverride(requestFor({ targetRegion: "us-east" })));
    expect(violationsOf(same)).toEqual([["target_region", "distinct_regions"]]);
  });
});

describe("approval and decisions", () => {
  beforeEach(() => start());

  it("denies before approval, allows while ACTIVE with the override named, and stops exactly at expires_at", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    const before = await toEuWest();
    expect(before.allowed).toBe(false);
    expect(before.emergencyOverrideId).toBe("");

    const approved = (await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId, comment: "confirmed with the DPO" })).override!;
    expect(approved.status).toBe(EmergencyOverrideStatus.ACTIVE);
    expect(approved.approvedBy).toBe("bob");
    const expiresAt = timestampMs(approved.expiresAt!);
    expect(expiresAt - timestampMs(approved.approvedAt!)).toBe(2 * HOUR);

    const during = await toEuWest();
    expect(during.allowed).toBe(true);
    expect(during.emergencyOverrideId).toBe(override!.overrideId);
    expect(during.targetRegion).toBe("eu-west");
    // The soft rules it overrode are still listed.
    expect(codes(during.reasons)).toEqual(
      expect.arrayContaining([ReasonCode.REGION_PROHIBITED, ReasonCode.FERPA_OUTSIDE_US_CA, ReasonCode.EMERGENCY_OVERRIDE_APPLIED]),
    );
    // Only the named learner, only to the named region.
    expect((await toEuWest("student-456")).allowed).toBe(false);
    expect((await svc.residency.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "eu-west" })).allowed).toBe(false);

    clock.pin(expiresAt - 1);
    expect((await toEuWest()).allowed).toBe(true);
    clock.pin(expiresAt);
    expect((await toEuWest()).allowed).toBe(false);
    // One millisecond after expiry, with no sweep having run: not covered.
    clock.pin(expiresAt + 1);
    const after = await toEuWest();
    expect(after.allowed).toBe(false);
    expect(after.emergencyOverrideId).toBe("");
    expect(codes(after.reasons)).toContain(ReasonCode.REGION_PROHIBITED);

    // The sweep then records it as EXPIRED.
    expect(await t.app.overrides.sweeper.sweep()).toBe(1);
    const { overrides } = await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true });
    expect(overrides.map((o) => o.status)).toEqual([EmergencyOverrideStatus.EXPIRED]);
    expect(await t.app.overrides.sweeper.sweep()).toBe(0);
  });

  it("covers every learner and tenant-level requests when no learners are named", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor({ affectedLearners: [] }));
    await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    expect((await toEuWest("anyone")).allowed).toBe(true);
    expect((await svc.residency.resolveAccess({ tenantId: "acme-edu", operation: Operation.WRITE, requestedRegion: "eu-west" })).allowed).toBe(true);
  });

  it("refuses self-approval, even to a principal holding both roles", async () => {
    const both = await clientsAs(t, "carol", ["emergency-requester", "emergency-approver"], ["acme-edu"]);
    const { override } = await both.admin.requestEmergencyOverride(requestFor());
    const err = await failure(both.admin.approveEmergencyOverride({ overrideId: override!.overrideId }));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain("no self-approval");
    expect((await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId })).override?.status).toBe(EmergencyOverrideStatus.ACTIVE);
  });

  it("refuses approving an override that is not PENDING, naming its status", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    const again = await failure(bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toContain("is ACTIVE");
  });

  it("lets exactly one of two approvers at once win", async () => {
    const dave = await clientsAs(t, "dave", ["emergency-approver"], ["acme-edu"]);
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    const results = await Promise.allSettled([
      bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId }),
      dave.admin.approveEmergencyOverride({ overrideId: override!.overrideId }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("denies again after revocation, recording who, when and why", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    expect((await toEuWest()).allowed).toBe(true);
    const revoked = (await bob.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "primary region recovered" })).override!;
    expect(revoked).toMatchObject({ status: EmergencyOverrideStatus.REVOKED, revokedBy: "bob", revokeReason: "primary region recovered" });
    expect(revoked.revokedAt).toBeDefined();
    expect((await toEuWest()).allowed).toBe(false);
    const again = await failure(bob.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "twice" }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toContain("is REVOKED");
    const missingReason = await failure(bob.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "" }));
    expect(violationsOf(missingReason)).toEqual([["reason", "required"]]);
  });

  it("revokes a PENDING request, which then cannot be approved", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    await bob.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "asked by mistake" });
    const err = await failure(bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("is REVOKED");
  });

  it("never overrides a hard rule: COPPA's inference provider restriction", async () => {
    const admin = await clientsAs(t, "policy-admin", ["admin"]);
    // COPPA, and only anthropic (which retains data) may serve inference: us-west is not allowed either.
    await admin.admin.createPolicy({
      policy: {
        tenantId: "kids-co",
        primaryRegion: "us-east",
        complianceFrameworks: [ComplianceFramework.COPPA],
        dataRetentionDays: 30,
        inferenceProviders: ["anthropic"],
      },
    });
    const requester = await clientsAs(t, "erin", ["emergency-requester"], ["kids-co"]);
    const { override } = await requester.admin.requestEmergencyOverride(requestFor({ tenantId: "kids-co", affectedLearners: [], targetRegion: "us-west" }));
    const approver = await clientsAs(t, "frank", ["emergency-approver"], ["kids-co"]);
    await approver.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    const service = await clientsAs(t, "svc-kids", ["service"], ["kids-co"]);
    const read = await service.residency.resolveAccess({ tenantId: "kids-co", operation: Operation.READ, requestedRegion: "us-west" });
    expect(read.allowed).toBe(true); // the soft REGION_NOT_ALLOWED is overridden
    const inference = await service.residency.resolveAccess({ tenantId: "kids-co", operation: Operation.INFERENCE, requestedRegion: "us-west" });
    expect(inference.allowed).toBe(false);
    expect(codes(inference.reasons)).toContain(ReasonCode.COPPA_PROVIDER_NOT_PERMITTED);
    expect(inference.emergencyOverrideId).toBe("");
  });

  it("counts every use in memory and stores the counts at the next flush", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    await bob.admin.approveEmergencyOverride({ overrideId: override!.overrideId });
    for (let i = 0; i < 3; i++) await toEuWest();
    await svc.residency.batchResolveAccess({
      requests: [
        { tenantId: "acme-edu", learnerId: "student-123", operation: Operation.READ, requestedRegion: "eu-west" },
        { tenantId: "acme-edu", learnerId: "student-123", operation: Operation.WRITE, requestedRegion: "eu-west" },
        { tenantId: "acme-edu", learnerId: "student-456", operation: Operation.READ, requestedRegion: "eu-west" }, // denied
      ],
    });
    await t.app.overrides.usage.flush();
    const [listed] = (await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu" })).overrides;
    expect(listed?.usageCount).toBe(5n);
    expect(listed?.lastUsedAt).toBeDefined();
    const metrics = await (await fetch(`${t.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/emergency_overrides_total\{status="used"\} 5/);
    expect(metrics).toMatch(/emergency_overrides_total\{status="requested"\} 1/);
    expect(metrics).toMatch(/emergency_overrides_total\{status="approved"\} 1/);
  });

  it("expires a PENDING request after 24 hours: approving it then is FAILED_PRECONDITION, and the sweep marks the others", async () => {
    const { override: first } = await alice.admin.requestEmergencyOverride(requestFor());
    const { override: second } = await alice.admin.requestEmergencyOverride(requestFor({ durationHours: 1 }));
    clock.advance(23 * HOUR);
    expect(await t.app.overrides.sweeper.sweep()).toBe(0);
    clock.advance(HOUR + 1_000);
    const err = await failure(bob.admin.approveEmergencyOverride({ overrideId: first!.overrideId }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("not approved within 24 hours");
    expect(await t.app.overrides.sweeper.sweep()).toBe(1);
    const { overrides } = await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true });
    expect(overrides.map((o) => [o.overrideId, o.status])).toEqual([
      [second!.overrideId, EmergencyOverrideStatus.EXPIRED],
      [first!.overrideId, EmergencyOverrideStatus.EXPIRED],
    ]);
    expect((await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu" })).overrides).toEqual([]);
  });
});

describe("roles and tenants", () => {
  beforeEach(() => start());

  it("lets a requester not approve, and an approver not request", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    const approve = await failure(alice.admin.approveEmergencyOverride({ overrideId: override!.overrideId }));
    expect(approve.code).toBe(Code.PermissionDenied);
    expect(approve.rawMessage).toContain("needs role emergency-approver");
    const revoke = await failure(alice.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "mine" }));
    expect(revoke.code).toBe(Code.PermissionDenied);
    const request = await failure(bob.admin.requestEmergencyOverride(requestFor()));
    expect(request.code).toBe(Code.PermissionDenied);
    expect(request.rawMessage).toContain("needs role emergency-requester");
    // Both may list.
    expect((await alice.admin.listEmergencyOverrides({ tenantId: "acme-edu" })).overrides).toHaveLength(1);
  });

  it("hides another tenant's overrides: NOT_FOUND by id, absent from lists, PERMISSION_DENIED by name", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    const outsider = await clientsAs(t, "mallory", ["emergency-requester", "emergency-approver"], ["other-edu"]);
    const approve = await failure(outsider.admin.approveEmergencyOverride({ overrideId: override!.overrideId }));
    expect(approve.code).toBe(Code.NotFound);
    const missing = await failure(outsider.admin.approveEmergencyOverride({ overrideId: "ovr_doesnotexist" }));
    expect(missing.code).toBe(Code.NotFound);
    expect(approve.rawMessage.replace(override!.overrideId, "X")).toBe(missing.rawMessage.replace("ovr_doesnotexist", "X"));
    expect((await failure(outsider.admin.revokeEmergencyOverride({ overrideId: override!.overrideId, reason: "x" }))).code).toBe(Code.NotFound);
    expect((await outsider.admin.listEmergencyOverrides({ includeInactive: true })).overrides).toEqual([]);
    expect((await failure(outsider.admin.listEmergencyOverrides({ tenantId: "acme-edu" }))).code).toBe(Code.PermissionDenied);
    expect((await failure(outsider.admin.requestEmergencyOverride(requestFor()))).code).toBe(Code.PermissionDenied);
  });

  it("lists newest first, page by page, open ones only unless include_inactive", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await alice.admin.requestEmergencyOverride(requestFor({ durationHours: i + 1 }))).override!.overrideId);
      clock.advance(1_000);
    }
    await bob.admin.revokeEmergencyOverride({ overrideId: ids[2]!, reason: "not needed" });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true, pageSize: 2, pageToken });
      expect(page.overrides.length).toBeLessThanOrEqual(2);
      seen.push(...page.overrides.map((o) => o.overrideId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual([...ids].reverse());
    const open = await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu" });
    expect(open.overrides.map((o) => o.overrideId)).toEqual([ids[4], ids[3], ids[1], ids[0]]);
    const first = await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", pageSize: 1 });
    const wrongFilter = await failure(bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true, pageToken: first.nextPageToken }));
    expect(wrongFilter.code).toBe(Code.InvalidArgument);
  });
});

describe("EMERGENCY_REQUIRED_APPROVALS=0", () => {
  beforeEach(() => start({ EMERGENCY_REQUIRED_APPROVALS: "0" }));

  it("makes a request ACTIVE at once, approved by nobody", async () => {
    const { override } = await alice.admin.requestEmergencyOverride(requestFor());
    expect(override?.status).toBe(EmergencyOverrideStatus.ACTIVE);
    expect(override?.approvedBy).toBe("none required");
    expect(timestampMs(override!.expiresAt!) - timestampMs(override!.approvedAt!)).toBe(2 * HOUR);
    const decision = await toEuWest();
    expect(decision.allowed).toBe(true);
    expect(decision.emergencyOverrideId).toBe(override!.overrideId);
  });
});
