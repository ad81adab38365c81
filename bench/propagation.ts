// `npm run bench:propagation`: three replicas in processes of their own on one Postgres database and one Redis
// channel. Each write goes to the next replica in turn (UpdatePolicy over gRPC on its Connect listener); the bench
// times, from sending the write, how long until every replica serves the new snapshot version (each replica is polled
// with GetEffectivePolicy, which never triggers a catch-up, so a change can only arrive over the bus). Results:
// printed, and bench/results/propagation.json.
// Knobs: BENCH_WRITES=300, BENCH_WRITE_GAP_MS=20 (pause between writes), BENCH_POLL_GAP_MS=1 (pause between two
// polls of a replica, so that the polling does not starve the replicas of CPU), BENCH_POLL_LISTENER=grpc (the polls
// go to the native grpc-js listener, which costs a replica about a third of the CPU per call of the Connect listener:
// the observer should disturb the replicas it times as little as it can; `connect` polls the Connect listener as the
// bench did before), BENCH_POLLER=raw (snapshot-version-poller.ts; `client`: the generated connect-node client, as
// before, which limits how soon the bench can see a version), BENCH_POSTGRES_URL, BENCH_REDIS_URL.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../gen/residency/v1/admin_service_pb.js";
import { ResidencyService } from "../gen/residency/v1/residency_service_pb.js";
import { mintToken } from "../src/auth/mint-token.js";
import { envInt } from "./env-int.js";
import { describeMachine, machineInfo } from "./machine.js";
import { BENCH_REDIS_URL, benchChannel, createBenchDatabase, startReplica, type Replica } from "./replica-cluster.js";
import { snapshotVersionPoller } from "./snapshot-version-poller.js";
import { formatNs, summarize, textTable, type LatencySummary } from "./stats.js";

const TARGET_P99_MS = 25;
const here = dirname(fileURLToPath(import.meta.url));
const log = (line = ""): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const writes = envInt("BENCH_WRITES", 300, 0);
  const gapMs = envInt("BENCH_WRITE_GAP_MS", 20, 0);
  const pollGapMs = envInt("BENCH_POLL_GAP_MS", 1, 0);
  const pollListener = process.env.BENCH_POLL_LISTENER ?? "grpc";
  if (pollListener !== "grpc" && pollListener !== "connect") throw new Error(`BENCH_POLL_LISTENER="${pollListener}": grpc or connect`);
  const poller = process.env.BENCH_POLLER ?? "raw";
  if (poller !== "raw" && poller !== "client") throw new Error(`BENCH_POLLER="${poller}": raw or client`);
  const closers: (() => void)[] = [];
  log("residency propagation bench (issue #4): 3 replicas, Postgres + Redis");
  log(describeMachine(machineInfo()));

  const secretKey = randomBytes(32).toString("hex");
  const db = await createBenchDatabase("residency_bench_propagation");
  const replicas: Replica[] = [];
  try {
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: BENCH_REDIS_URL,
      REDIS_CHANNEL: benchChannel(),
      SECRET_KEY: secretKey,
      LOG_LEVEL: "warn",
    };
    // The first migrates the empty database; the others find nothing pending.
    replicas.push(await startReplica("r0", { ...env, LOG_LEVEL: "info" }));
    replicas.push(...(await Promise.all(["r1", "r2"].map((name) => startReplica(name, { ...env, LOG_LEVEL: "info" })))));
    const token = await mintToken({ secretKey, subject: "bench", roles: ["admin"], tenants: ["*"], ttlSeconds: 3600, now: Date.now() });
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    const clients = replicas.map((r) => {
      // No response compression: a poll is a few hundred bytes, and gzip would cost the replicas more than the answer.
      const transport = (baseUrl: string) => createGrpcTransport({ baseUrl, interceptors: [auth], acceptCompression: [] });
      const polled = pollListener === "grpc" ? r.grpcUrl : r.baseUrl;
      const residency = createClient(ResidencyService, transport(polled));
      // GetEffectivePolicy: a small answer from the snapshot, with its version, and it never triggers a catch-up.
      const raw = poller === "raw" ? snapshotVersionPoller(polled, "bench-edu", token) : undefined;
      const version = raw
        ? () => raw.version()
        : async () => Number((await residency.getEffectivePolicy({ tenantId: "bench-edu" })).snapshotVersion);
      return { admin: createClient(AdminService, transport(r.baseUrl)), version, close: () => raw?.close() };
    });
    closers.push(() => clients.forEach((c) => c.close()));
    const versionOf = (i: number) => clients[i]!.version();

    let { policy } = await clients[0]!.admin.createPolicy({ policy: { tenantId: "bench-edu", primaryRegion: "us-east", allowedRegions: ["us-west"] } });
    let version = await versionOf(0);
    // Until the create reaches a replica, it has no policy for the tenant and answers NOT_FOUND.
    const created = (i: number) =>
      versionOf(i).catch((err: unknown) => {
        if (ConnectError.from(err).code === Code.NotFound) return 0;
        throw err;
      });
    for (let i = 0; i < 3; i++) while ((await created(i)) < version);
    // Warm-up: connections, JIT.
    for (let i = 0; i < 20; i++) {
      ({ policy } = await clients[i % 3]!.admin.updatePolicy({ policy: { ...policy!, emergencyContact: `warm-${i}` }, expectedVersion: policy!.version }));
      version++;
    }
    for (let i = 0; i < 3; i++) while ((await versionOf(i)) < version);

    const everyReplica = new Float64Array(writes);
    const writerAck = new Float64Array(writes);
    const othersAfterAck = new Float64Array(writes);
    let pollsTotal = 0;
    for (let n = 0; n < writes; n++) {
      const writer = n % 3;
      const target = version + 1; // the bench is the only writer: versions are consecutive
      const started = process.hrtime.bigint();
      const write = clients[writer]!.admin.updatePolicy({
        policy: { ...policy!, emergencyContact: `dpo-${n}@bench.example` },
        expectedVersion: policy!.version,
      });
      const seen = replicas.map(async (_, i) => {
        for (;;) {
          pollsTotal++;
          if ((await versionOf(i)) >= target) return process.hrtime.bigint();
          if (pollGapMs > 0) await new Promise((resolve) => setTimeout(resolve, pollGapMs));
        }
      });
      ({ policy } = await write);
      const acked = process.hrtime.bigint();
      const times = await Promise.all(seen);
      version = target;
      const last = times.reduce((a, b) => (b > a ? b : a));
      everyReplica[n] = Number(last - started);
      writerAck[n] = Number(acked - started);
      const lastOther = times.filter((_, i) => i !== writer).reduce((a, b) => (b > a ? b : a));
      othersAfterAck[n] = Math.max(0, Number(lastOther - acked));
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }

    const results = {
      writes,
      writeGapMs: gapMs,
      pollGapMs,
      pollListener,
      poller,
      pollsPerWrite: pollsTotal / writes,
      everyReplicaServes: summarize(everyReplica),
      writerAcknowledges: summarize(writerAck),
      othersAfterWriterAck: summarize(othersAfterAck),
    };
    log();
    log(
      textTable(
        ["from sending the write until…", "p50", "p90", "p99", "max"],
        [
          row("every replica of 3 serves it", results.everyReplicaServes),
          row("the writer acknowledges it", results.writerAcknowledges),
          row("(others, after the ack)", results.othersAfterWriterAck),
        ],
      ),
    );
    const p99Ms = results.everyReplicaServes.p99 / 1e6;
    log();
    const how = `${poller === "raw" ? "raw HTTP/2" : "connect-node client"} to the ${pollListener === "grpc" ? "native gRPC" : "Connect"} listener`;
    log(`${writes} writes, ${results.pollsPerWrite.toFixed(1)} polls per write over 3 replicas (${how})`);
    log(`p99 propagation ${p99Ms.toFixed(2)} ms: ${p99Ms < TARGET_P99_MS ? "meets" : "MISSES"} the ${TARGET_P99_MS} ms target`);
    await mkdir(join(here, "results"), { recursive: true });
    await writeFile(join(here, "results", "propagation.json"), `${JSON.stringify({ machine: machineInfo(), ...results }, null, 2)}\n`);
  } finally {
    for (const close of closers) close();
    await Promise.all(replicas.map((r) => r.stop()));
    await db.drop();
  }
}

function row(label: string, s: LatencySummary): string[] {
  return [label, formatNs(s.p50), formatNs(s.p90), formatNs(s.p99), formatNs(s.max)];
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
