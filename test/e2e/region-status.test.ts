import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation, RegionStatus } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let t: TestApp;
const admin = () => createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
const residency = () => createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected failure"); }, (e: unknown) => ConnectError.from(e));
const codes = (reasons: { code: ReasonCode }[]) => reasons.map((r) => r.code);

beforeEach(async () => {
  t = await startTestApp();
  await admin().createPolicy({ policy: { tenantId: "failover-ok", primaryRegion: "eu-west", allowedRegions: ["eu-central"], allowCrossRegionFailover: true } });
  await admin().createPolicy({ policy: { tenantId: "no-failover", primaryRegion: "eu-west", allowedRegions: ["eu-central"] } });
});
afterEach(async () => {
  await t.cleanup();
});

describe("SetRegionStatus", () => {
  it("marks a region DOWN for every decision after it, and ListRegions shows it", async () => {
    const { region } = await admin().setRegionStatus({ region: "eu-west", status: RegionStatus.DOWN, reason: "storage outage INC-42" });
    expect(region?.status).toBe(RegionStatus.DOWN);
    expect(region?.statusReason).toBe("storage outage INC-42");
    const listed = (await residency().listRegions({})).regions.find((r) => r.id === "eu-west");
    expect(listed?.status).toBe(RegionStatus.DOWN);
    expect(listed?.statusUpdateTime).toBeDefined();
  });

  it("fails over inside the legal area when the policy allows it", async () => {
    await admin().setRegionStatus({ region: "eu-west", status: RegionStatus.DOWN, reason: "outage" });
    const res = await residency().resolveAccess({ tenantId: "failover-ok", operation: Operation.WRITE });
    expect(res.allowed).toBe(true);
    expect(res.targetRegion).toBe("eu-central");
    expect(res.crossRegion).toBe(true);
    expect(codes(res.reasons)).toContain(ReasonCode.REGION_FAILOVER);
    expect(res.infrastructure?.storageBucket).toBe("residency-eu-central");
  });

  it("denies REGION_UNAVAILABLE when the policy does not allow failover, and recovers when HEALTHY again", async () => {
    await admin().setRegionStatus({ region: "eu-west", status: RegionStatus.DOWN, reason: "outage" });
    const down = await residency().resolveAccess({ tenantId: "no-failover", operation: Operation.READ });
    expect(down.allowed).toBe(false);
    expect(codes(down.reasons)).toContain(ReasonCode.REGION_UNAVAILABLE);
    await admin().setRegionStatus({ region: "eu-west", status: RegionStatus.HEALTHY, reason: "resolved" });
    expect((await residency().resolveAccess({ tenantId: "no-failover", operation: Operation.READ })).allowed).toBe(true);
  });

  it("keeps serving a DEGRADED region with a reason", async () => {
    await admin().setRegionStatus({ region: "eu-west", status: RegionStatus.DEGRADED, reason: "slow disks" });
    const res = await residency().resolveAccess({ tenantId: "no-failover", operation: Operation.READ });
    expect(res.allowed).toBe(true);
    expect(res.targetRegion).toBe("eu-west");
    expect(codes(res.reasons)).toContain(ReasonCode.REGION_DEGRADED);
  });

  it("keeps the status across a restart", async () => {
    await admin().setRegionStatus({ region: "us-east", status: RegionStatus.DOWN, reason: "outage" });
    await t.stop();
    const dataDir = t.dataDir;
    t = await startTestApp({}, dataDir);
    const listed = (await residency().listRegions({})).regions.find((r) => r.id === "us-east");
    expect(listed?.status).toBe(RegionStatus.DOWN);
  });

  it("rejects an unknown region, a missing status and a missing reason at once", async () => {
    const err = await failure(admin().setRegionStatus({ region: "mars", status: RegionStatus.UNSPECIFIED, reason: " " }));
    expect(err.code).toBe(Code.InvalidArgument);
    for (const field of ["region", "status", "reason"]) expect(err.rawMessage).toContain(field);
  });
});
