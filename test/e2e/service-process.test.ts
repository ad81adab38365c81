import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, expect, it } from "vitest";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { bearer, TEST_SECRET_KEY, tokenFor } from "../support/auth.js";

const run = promisify(execFile);
let child: ChildProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts `npm start`'s command and resolves with the ports from its "serving" log line. */
async function startService(env: Record<string, string>): Promise<{ port: number; grpcPort: number; exit: Promise<number | null> }> {
  dir = await mkdtemp(join(tmpdir(), "residency-proc-"));
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", DATA_DIR: dir, SECRET_KEY: TEST_SECRET_KEY, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { message?: string; port?: number; grpc_port?: number };
    if (entry.message === "residency is serving") return { port: entry.port!, grpcPort: entry.grpc_port!, exit };
  }
  throw new Error(`service exited before serving (code ${await exit})`);
}

it("serves, lists its services by reflection, and exits 0 on SIGTERM", async () => {
  const { port, grpcPort, exit } = await startService({});
  const token = await tokenFor({ sub: "process-test", roles: ["service"], tenants: ["*"] });
  for (const p of [port, grpcPort]) {
    const { stdout } = await run(
      "npx",
      ["--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", `http://127.0.0.1:${p}`],
      { timeout: 20_000 },
    );
    expect(stdout).toContain("residency.v1.ResidencyService");
    expect(stdout).toContain("residency.v1.AdminService");
    expect(stdout).toContain("residency.v1.AuditService");
  }
  const { stdout } = await run(
    "npx",
    ["--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", `authorization: Bearer ${token}`,
      "-d", '{"tenant_id":"x","operation":"OPERATION_READ"}', `http://127.0.0.1:${grpcPort}/residency.v1.ResidencyService/ResolveAccess`],
    { timeout: 20_000 },
  );
  expect(JSON.parse(stdout).reasons[0].code).toBe("REASON_CODE_NO_POLICY");

  const client = createClient(ResidencyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}`, interceptors: [bearer(token)] }));
  expect((await client.listRegions({})).regions).toHaveLength(7);
  // The client's HTTP/2 session stays open: shutdown must close it rather than wait for it.
  child!.kill("SIGTERM");
  expect(await exit).toBe(0);
});

it("refuses to start on a bad setting, naming the variable", async () => {
  const result = await run(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", DEFAULT_REGION: "atlantis", DATA_DIR: join(tmpdir(), "unused") },
    timeout: 20_000,
  }).then(
    () => ({ code: 0, stderr: "" }),
    (err: { code: number; stderr: string }) => err,
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("DEFAULT_REGION");
});
