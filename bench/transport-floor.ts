// The transport floor of issue #2's ratio: a bare grpc-js server (the library the native listener runs on) that
// does no work at all, answering ResolveAccess with a fixed message of the real answer's size and Health/Check
// with SERVING, driven by the same h2load runs as `npm run bench` part 2. Its ResolveAccess ÷ Check is what the
// bigger request and answer cost by themselves; what `npm run bench` measures below it is the service's own work.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Metadata, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from "@grpc/grpc-js";
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../gen/health/v1/health_pb.js";
import { ResolveAccessRequestSchema, ResolveAccessResponseSchema } from "../gen/residency/v1/residency_service_pb.js";
import { ReasonCode } from "../gen/residency/v1/reason_pb.js";
import { ComplianceFramework } from "../gen/residency/v1/types_pb.js";
import { envInt } from "./env-int.js";
import { BENCH_LEVELS, benchResolveRequest, CHECK_PATH, GRPC_HEADERS, RESOLVE_PATH } from "./grpc-bench.js";
import { grpcFrame } from "./grpc-frames.js";
import { h2loadVersion, killH2load, runH2load, type H2loadResult } from "./h2load.js";
import { describeMachine, machineInfo } from "./machine.js";
import { median, textTable } from "./stats.js";

/** The size of the service's answer to the bench's ResolveAccess (`npm run bench` prints it: body bytes − 5). */
const RESOLVE_ANSWER_BYTES = 437;
const ROUNDS = envInt("BENCH_ROUNDS", 5);
const DURATION_S = envInt("BENCH_H2LOAD_SECONDS", 3);
const WARMUP_S = envInt("BENCH_WARMUP_SECONDS", 1);

/** A ResolveAccessResponse shaped like the service's allowed answer, its last message padded to the real size. */
function resolveAnswer(): Uint8Array {
  const answer = (padding: string) =>
    toBinary(
      ResolveAccessResponseSchema,
      create(ResolveAccessResponseSchema, {
        decisionId: "7d5c1f0e-3b8a-4e2f-9c61-0a4b8d2e6f13",
        allowed: true,
        targetRegion: "us-west",
        crossRegion: true,
        reasons: [
          { code: ReasonCode.ALLOWED_REGION, message: "us-west is in the allowed regions of the policy" },
          { code: ReasonCode.FERPA_WITHIN_US_CA, message: `FERPA: education records stay in the US or Canada${padding}`, framework: ComplianceFramework.FERPA },
        ],
        infrastructure: {
          region: "us-west",
          storageBucket: "residency-us-west-data",
          storageEndpoint: "https://s3.us-west-2.amazonaws.com",
          searchEndpoint: "https://search-residency-us-west.us-west-2.es.amazonaws.com",
          inferenceProvider: "bedrock",
          inferenceEndpoint: "https://bedrock-runtime.us-west-2.amazonaws.com",
        },
        policyId: "pol_1165657a083641649b50539af1c893a9",
        policyVersion: 1n,
        effectiveFrameworks: [ComplianceFramework.FERPA],
        snapshotVersion: 2n,
      }),
    );
  const bare = answer("").byteLength;
  if (bare > RESOLVE_ANSWER_BYTES) throw new Error(`the floor's answer is ${bare} bytes, more than the ${RESOLVE_ANSWER_BYTES} it imitates`);
  return answer(".".repeat(RESOLVE_ANSWER_BYTES - bare));
}

const passThrough = (bytes: Buffer): Buffer => bytes;
const method = (path: string): ServiceDefinition[string] => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: passThrough,
  requestDeserialize: passThrough,
  responseSerialize: passThrough,
  responseDeserialize: passThrough,
});

/** Answers fixed bytes; ResolveAccess also sends an x-request-id header, as the service does. */
async function startFloorServer(resolveBytes: Buffer, checkBytes: Buffer): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService({ ResolveAccess: method(RESOLVE_PATH) }, {
    ResolveAccess: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const headers = new Metadata();
      headers.set("x-request-id", "3f1e9a52-7c4d-4b08-a6e2-5d9c0b7f8e21");
      call.sendMetadata(headers);
      callback(null, resolveBytes);
    },
  });
  server.addService({ Check: method(CHECK_PATH) }, { Check: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, checkBytes) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { server, port };
}

/** Every request answered, and with a message: a gRPC error would be an HTTP 200 without DATA. */
function checked(run: H2loadResult, messageBytes: number): H2loadResult {
  const { requests, statusCodes, traffic } = run;
  const failures = requests.failed + requests.errored + requests.timeout;
  const perRequest = traffic.data / Math.max(1, requests.done);
  if (failures > 0 || statusCodes["2xx"] < requests.done || perRequest < messageBytes + 5) {
    throw new Error(`h2load ${run.args.join(" ")}: ${failures} failed, ${statusCodes["2xx"]}/${requests.done} 2xx, ${perRequest.toFixed(1)} DATA bytes each`);
  }
  return run;
}

async function main(): Promise<void> {
  const version = await h2loadVersion();
  if (version === undefined) throw new Error("h2load is not installed (apt-get install nghttp2-client)");
  console.log("residency transport floor (issue #2): a bare grpc-js server that does no work, same h2load runs as `npm run bench`");
  console.log(describeMachine(machineInfo()));
  const resolveAnswerBytes = resolveAnswer();
  const checkAnswerBytes = toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING }));
  // Proof the fixed bytes are the messages they stand for.
  fromBinary(ResolveAccessResponseSchema, resolveAnswerBytes);
  fromBinary(HealthCheckResponseSchema, checkAnswerBytes);

  const dir = await mkdtemp(join(tmpdir(), "residency-floor-"));
  const { server, port } = await startFloorServer(Buffer.from(resolveAnswerBytes), Buffer.from(checkAnswerBytes));
  const stop = async (): Promise<void> => {
    killH2load();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    const resolveFile = join(dir, "resolve-access.grpc");
    const checkFile = join(dir, "health-check.grpc");
    await writeFile(resolveFile, grpcFrame(toBinary(ResolveAccessRequestSchema, benchResolveRequest("bench-edu"))));
    await writeFile(checkFile, grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" }))));
    // The service's requests carry a bearer JWT; the floor reads no header, but h2load sends one of that size.
    const headers = [...GRPC_HEADERS, `authorization: Bearer ${"x".repeat(180)}`];
    console.log(`${version}; answers: ResolveAccess ${resolveAnswerBytes.byteLength} bytes, Check ${checkAnswerBytes.byteLength} bytes; ${ROUNDS} ABBA rounds of -D ${DURATION_S} after a -D ${WARMUP_S} warm-up`);

    const rows: string[][] = [];
    for (const level of BENCH_LEVELS) {
      const timed = async (path: string, file: string, bytes: number): Promise<{ reqPerSec: number; cpuUsPerRequest: number }> => {
        const spec = { clients: level.clients, streams: level.streams, url: `http://127.0.0.1:${port}${path}`, dataFile: file, headers };
        await runH2load({ ...spec, durationS: WARMUP_S });
        const before = process.cpuUsage();
        const run = checked(await runH2load({ ...spec, durationS: DURATION_S }), bytes);
        const cpu = process.cpuUsage(before);
        return { reqPerSec: run.reqPerSec, cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, run.requests.done) };
      };
      const resolve: { reqPerSec: number; cpuUsPerRequest: number }[] = [];
      const check: { reqPerSec: number; cpuUsPerRequest: number }[] = [];
      const runResolve = async () => resolve.push(await timed(RESOLVE_PATH, resolveFile, resolveAnswerBytes.byteLength));
      const runCheck = async () => check.push(await timed(CHECK_PATH, checkFile, checkAnswerBytes.byteLength));
      // ABBA, as `npm run bench`: drift hits both RPCs alike.
      for (let round = 0; round < ROUNDS; round++) {
        const [first, second] = round % 2 === 0 ? [runResolve, runCheck] : [runCheck, runResolve];
        await first();
        await second();
      }
      const resolveMedian = median(resolve.map((r) => r.reqPerSec));
      const checkMedian = median(check.map((r) => r.reqPerSec));
      const ratios = resolve.map((r, i) => r.reqPerSec / check[i]!.reqPerSec);
      rows.push([
        `-c ${level.clients} -m ${level.streams}`,
        resolveMedian.toFixed(0),
        checkMedian.toFixed(0),
        // Median ÷ median, as `npm run bench` prints its ratio.
        (resolveMedian / checkMedian).toFixed(2),
        ratios.map((r) => r.toFixed(2)).join(" "),
        `${median(resolve.map((r) => r.cpuUsPerRequest)).toFixed(1)} / ${median(check.map((r) => r.cpuUsPerRequest)).toFixed(1)} µs`,
      ]);
    }
    console.log(textTable(["h2load", "ResolveAccess req/s", "Check req/s", "ratio", "rounds' ratios", "server cpu/req RA / Check"], rows));
  } finally {
    await stop();
  }
}

await main();
