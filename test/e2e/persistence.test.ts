import { rm } from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

let dataDir: string | undefined;
const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("keeps policies and their history across a restart on the same DATA_DIR", async () => {
  const first = await startTestApp();
  apps.push(first);
  dataDir = first.dataDir;
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: first.baseUrl, interceptors: [first.auth] }));
  const { policy } = await admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "eu-central" } });
  await admin.updatePolicy({ policy: { ...policy!, allowedRegions: ["eu-west"] }, expectedVersion: 1n });
  const versionBefore = first.app.snapshots.current().version;
  await first.stop();

  const second = await startTestApp({}, dataDir);
  apps.push(second);
  expect(second.app.snapshots.current().version).toBe(versionBefore);
  const residency = createClient(ResidencyService, createGrpcTransport({ baseUrl: second.grpcUrl, interceptors: [second.auth] }));
  const decision = await residency.resolveAccess({ tenantId: "acme-edu", operation: Operation.READ, requestedRegion: "eu-west" });
  expect(decision.allowed).toBe(true);
  expect(decision.policyVersion).toBe(2n);
  const admin2 = createClient(AdminService, createGrpcTransport({ baseUrl: second.baseUrl, interceptors: [second.auth] }));
  expect((await admin2.getPolicy({ policyId: policy!.policyId, version: 1n })).policy?.allowedRegions).toEqual([]);
});

it("answers DEFAULT_REGION decisions for unpinned tenants only when configured", async () => {
  const t = await startTestApp({ DEFAULT_REGION: "us-east" });
  apps.push(t);
  dataDir = t.dataDir;
  const residency = createClient(ResidencyService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  const decision = await residency.resolveAccess({ tenantId: "new-tenant", operation: Operation.READ });
  expect(decision.allowed).toBe(true);
  expect(decision.targetRegion).toBe("us-east");
  const effective = await residency.getEffectivePolicy({ tenantId: "new-tenant" });
  expect(effective.effectivePolicy?.defaultRegionApplied).toBe(true);
});

it("loads the seed's sample tenant with DEMO_DATA=true", async () => {
  const t = await startTestApp({ DEMO_DATA: "true" });
  apps.push(t);
  dataDir = t.dataDir;
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  const { policies } = await admin.listPolicies({ tenantId: "acme-edu" });
  expect(policies.map((p) => p.learnerId)).toEqual(["", "student-123", "student-456", "student-789"]);
});
