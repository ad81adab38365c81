import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { ReasonCode } from "../../gen/residency/v1/reason_pb.js";
import { ResidencyService, ResolveAccessResponseSchema } from "../../gen/residency/v1/residency_service_pb.js";
import { Operation } from "../../gen/residency/v1/types_pb.js";
import { startTestApp, type TestApp } from "../support/start-test-app.js";

const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
let t: TestApp | undefined;
let regionsDir: string | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
  if (regionsDir) await rm(regionsDir, { recursive: true, force: true });
  regionsDir = undefined;
});

async function start(env: Record<string, string>) {
  t = await startTestApp(env);
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] }));
  await admin.createPolicy({ policy: { tenantId: "acme-edu", primaryRegion: "eu-west", allowedRegions: ["eu-central"], prohibitedRegions: ["us-east"] } });
  return createClient(ResidencyService, createGrpcTransport({ baseUrl: t.grpcUrl, interceptors: [t.auth] }));
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected failure"); }, (e: unknown) => ConnectError.from(e));

describe("PresignObjectUrl", () => {
  it("signs a SigV4 GET URL for the target region's bucket and endpoint", async () => {
    const client = await start(CREDENTIALS);
    const before = Date.now();
    const res = await client.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.READ, objectKey: "reports/q1.pdf", requestedRegion: "eu-central", expiresSeconds: 900 });
    const url = new URL(res.url);
    expect(res.method).toBe("GET");
    expect(url.protocol).toBe("https:");
    expect(url.host).toBe("residency-eu-central.s3.eu-central-1.amazonaws.com");
    expect(url.pathname).toBe("/reports/q1.pdf");
    const q = url.searchParams;
    expect(q.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(q.get("X-Amz-Credential")).toMatch(/^AKIAEXAMPLEEXAMPLE00\/\d{8}\/eu-central-1\/s3\/aws4_request$/);
    expect(q.get("X-Amz-Expires")).toBe("900");
    expect(q.get("X-Amz-SignedHeaders")).toBe("host");
    expect(q.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    const expiresAt = Number(res.expiresAt!.seconds) * 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(res.decision?.allowed).toBe(true);
    expect(res.decision?.targetRegion).toBe("eu-central");
  });

  it("signs a PUT URL path-style for an S3-compatible (MinIO) endpoint, default expiry 3600 s", async () => {
    regionsDir = await mkdtemp(join(tmpdir(), "regions-"));
    const file = join(regionsDir, "regions.json");
    await writeFile(file, JSON.stringify({ regions: [
      { id: "eu-west", display_name: "EU West", country: "IE", legal_area: "EEA", storage_bucket: "learners", storage_endpoint: "http://127.0.0.1:9000", search_endpoint: "http://127.0.0.1:9200" },
      { id: "eu-central", display_name: "EU Central", country: "DE", legal_area: "EEA", storage_bucket: "learners-de", storage_endpoint: "http://127.0.0.1:9001", search_endpoint: "http://127.0.0.1:9201" },
      { id: "us-east", display_name: "US East", country: "US", legal_area: "US", storage_bucket: "b", storage_endpoint: "http://127.0.0.1:9002", search_endpoint: "http://127.0.0.1:9202" },
    ] }));
    const client = await start({ ...CREDENTIALS, REGIONS_FILE: file });
    const res = await client.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.WRITE, objectKey: "a b.txt" });
    const url = new URL(res.url);
    expect(res.method).toBe("PUT");
    expect(url.host).toBe("127.0.0.1:9000");
    expect(url.pathname).toBe("/learners/a%20b.txt");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("3600");
  });

  it("gives no URL to a denied request: PERMISSION_DENIED with the decision in the details", async () => {
    const client = await start(CREDENTIALS);
    const err = await failure(client.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.READ, objectKey: "k", requestedRegion: "us-east" }));
    expect(err.code).toBe(Code.PermissionDenied);
    const [decision] = err.findDetails(ResolveAccessResponseSchema);
    expect(decision?.allowed).toBe(false);
    expect(decision?.reasons.map((r) => r.code)).toContain(ReasonCode.REGION_PROHIBITED);
  });

  it("rejects bad input naming each field", async () => {
    const client = await start(CREDENTIALS);
    const err = await failure(client.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.DELETE, objectKey: "", expiresSeconds: 604_801 }));
    expect(err.code).toBe(Code.InvalidArgument);
    for (const field of ["operation", "object_key", "expires_seconds"]) expect(err.rawMessage).toContain(field);
  });

  it("answers FAILED_PRECONDITION without AWS credentials", async () => {
    const client = await start({});
    const err = await failure(client.presignObjectUrl({ tenantId: "acme-edu", operation: Operation.READ, objectKey: "k" }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("AWS_ACCESS_KEY_ID");
  });
});
