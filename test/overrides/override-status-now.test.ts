import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it } from "vitest";
import { EmergencyOverrideStatus } from "../../gen/residency/v1/override_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";
import { HOUR, REASON, clientsAs, testClock } from "./override-fixture.js";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe("ListEmergencyOverrides reports each override's status as of now", () => {
  it("lists an ACTIVE override past expires_at, and a request past its approval deadline, as EXPIRED before any sweep", async () => {
    const clock = testClock();
    // The sweeper never runs on its own during the test.
    t = await startTestApp({ EMERGENCY_SWEEP_INTERVAL_MS: "3600000" }, undefined, { clock: clock.now });
    const admin = await clientsAs(t, "policy-admin", ["admin"]);
    await admin.admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "us-east", allowedRegions: ["us-west"] } });
    const alice = await clientsAs(t, "alice", ["emergency-requester"], ["acme-edu"]);
    const bob = await clientsAs(t, "bob", ["emergency-approver"], ["acme-edu"]);
    const request = { tenantId: "acme-edu", reason: REASON, sourceRegion: "us-east", targetRegion: "eu-west", durationHours: 2 };
    const active = (await alice.admin.requestEmergencyOverride(request)).override!;
    const approved = (await bob.admin.approveEmergencyOverride({ overrideId: active.overrideId, comment: "confirmed with the DPO" })).override!;
    const pending = (await alice.admin.requestEmergencyOverride(request)).override!;
    const statuses = async () =>
      Object.fromEntries(
        (await bob.admin.listEmergencyOverrides({ tenantId: "acme-edu", includeInactive: true })).overrides.map((o) => [o.overrideId, o.status]),
      );

    expect(await statuses()).toEqual({ [active.overrideId]: EmergencyOverrideStatus.ACTIVE, [pending.overrideId]: EmergencyOverrideStatus.PENDING });
    clock.pin(timestampMs(approved.expiresAt!));
    expect(await statuses()).toEqual({ [active.overrideId]: EmergencyOverrideStatus.EXPIRED, [pending.overrideId]: EmergencyOverrideStatus.PENDING });
    clock.pin(timestampMs(pending.requestedAt!) + 24 * HOUR);
    expect(await statuses()).toEqual({ [active.overrideId]: EmergencyOverrideStatus.EXPIRED, [pending.overrideId]: EmergencyOverrideStatus.EXPIRED });
  });
});
