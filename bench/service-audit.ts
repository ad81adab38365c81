// Part 3 of `npm run bench:audit`: what audit costs the service's decision path, end to end. Two apps, each in a
// process of its own (app-process.ts), identical but for where decisions' audit records go (the audit log, the
// default; or a no-op sink, which no configuration of the service allows), each answering ResolveAccess on its
// native gRPC listener to h2load.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../gen/residency/v1/admin_service_pb.js";
import { ResolveAccessRequestSchema } from "../gen/residency/v1/residency_service_pb.js";
import { ComplianceFramework } from "../gen/residency/v1/types_pb.js";
import { loadConfig } from "../src/config.js";
import { startAppProcess, type AppProcess } from "./app-process-client.js";
import { BENCH_SECRET_KEY, benchTokens } from "./auth.js";
import { benchAppSettings, benchResolveRequest } from "./grpc-bench.js";
import { grpcFrame } from "./grpc-frames.js";
import { h2loadVersion, runH2load } from "./h2load.js";
import { median } from "./stats.js";

const TENANT_ID = "bench-edu";
const RESOLVE_PATH = "/residency.v1.ResidencyService/ResolveAccess";

export interface ServiceAuditRow {
  readonly level: string;
  readonly off: number[];
  readonly on: number[];
}

/** ResolveAccess req/s with decisions' audit off and on, alternating; undefined without h2load. */
export async function measureServiceAudit(options: { durationS: number; rounds: number }): Promise<ServiceAuditRow[] | undefined> {
  if ((await h2loadVersion()) === undefined) return undefined;
  const dir = await mkdtemp(join(tmpdir(), "residency-bench-service-audit-"));
  const apps: AppProcess[] = [];
  try {
    const start = async (name: string, audited: boolean) => {
      const env = { HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", DATA_DIR: join(dir, name), SECRET_KEY: BENCH_SECRET_KEY, ...benchAppSettings() };
      const tokens = (await benchTokens(loadConfig(env), TENANT_ID))!;
      const app = await startAppProcess(env, { decisionAudit: audited });
      apps.push(app);
      const { grpcPort } = app;
      const url = `http://127.0.0.1:${grpcPort}`;
      const admin = createClient(
        AdminService,
        createGrpcTransport({
          baseUrl: url,
          interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${tokens.admin}`), next(req))],
        }),
      );
      await admin.createPolicy({
        policy: { tenantId: TENANT_ID, primaryRegion: "us-east", allowedRegions: ["us-west"], complianceFrameworks: [ComplianceFramework.FERPA] },
      });
      return { url, headers: ["content-type: application/grpc", "te: trailers", `authorization: Bearer ${tokens.service}`] };
    };
    const on = await start("on", true);
    const off = await start("off", false);
    const file = join(dir, "resolve-access.grpc");
    await writeFile(file, grpcFrame(toBinary(ResolveAccessRequestSchema, benchResolveRequest(TENANT_ID))));
    const run = async (target: { url: string; headers: string[] }, clients: number, streams: number) => {
      const spec = { clients, streams, url: `${target.url}${RESOLVE_PATH}`, dataFile: file, headers: target.headers };
      await runH2load({ ...spec, durationS: 1 });
      const result = await runH2load({ ...spec, durationS: options.durationS });
      if (result.requests.succeeded !== result.requests.done) throw new Error(`h2load: ${result.requests.done - result.requests.succeeded} requests failed`);
      return result.reqPerSec;
    };
    const rows: ServiceAuditRow[] = [];
    // One call at a time as well as many: at -c 1 -m 1 a call waits on no other, so whatever the writer thread
    // takes from the decision thread shows as latency, not hidden behind a queue of calls.
    for (const [clients, streams] of [
      [1, 1],
      [1, 16],
      [1, 64],
    ] as const) {
      const row: ServiceAuditRow = { level: `-c ${clients} -m ${streams}`, off: [], on: [] };
      for (let r = 0; r < options.rounds; r++) {
        // ABBA, so drift hits both.
        if (r % 2 === 0) {
          row.off.push(await run(off, clients, streams));
          row.on.push(await run(on, clients, streams));
        } else {
          row.on.push(await run(on, clients, streams));
          row.off.push(await run(off, clients, streams));
        }
      }
      rows.push(row);
    }
    return rows;
  } finally {
    for (const app of apps) await app.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const serviceAuditRatio = (row: ServiceAuditRow) => median(row.on) / median(row.off);

/** Each round's own audit on ÷ off (the spread behind the medians). */
export const roundAuditRatios = (row: ServiceAuditRow) => row.on.map((on, i) => on / row.off[i]!);
