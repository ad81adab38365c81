// Replicas of the service in processes of their own, on one fresh Postgres database and one Redis channel, for the
// replication benches. Every replica is `npm start`'s command on ephemeral ports.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** The server benches create their databases on (a superuser or CREATEDB connection). */
export const BENCH_POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function adminQuery(sql: string, params: unknown[] = [], database?: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: database ? databaseUrl(database) : BENCH_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createBenchDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await adminQuery(`create database "${name}"`);
  return { name, url: databaseUrl(name), drop: async () => void (await adminQuery(`drop database if exists "${name}" with (force)`)) };
}

export interface Replica {
  readonly name: string;
  /** The Connect listener (Connect, gRPC, gRPC-Web). */
  readonly baseUrl: string;
  /** The native grpc-js listener (gRPC only; the sidecars' listener). */
  readonly grpcUrl: string;
  stop(): Promise<void>;
}

/**
 * Where replicas keep their temp directory and log: tmpfs when the machine has one. A write to a file on the disk
 * Postgres fsyncs to can wait for the filesystem's journal (measured: about 0.35 ms per log line on this VM).
 */
const scratch = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

/**
 * Starts a replica and resolves once it logs "residency is serving". Its log goes to a file in its temp directory,
 * not to a pipe the bench reads: a line into a pipe wakes the bench's process, and with a line per applied change
 * (info) that cost every replica a context switch per change, on the path being measured.
 */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const dir = await mkdtemp(join(scratch, "residency-bench-"));
  const logFile = join(dir, "replica.log");
  const log = await open(logFile, "w");
  // BENCH_NODE_ARGS: extra node flags for the replicas, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/main.ts"], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", DATA_DIR: dir, ...env },
    stdio: ["ignore", log.fd, "pipe"],
  });
  await log.close(); // the child has its own copy of the descriptor
  const exited = once(child, "exit");
  let gone = false;
  void exited.then(() => (gone = true));
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => void stderr.push(chunk.toString()));
  let serving: { port: number; grpc_port: number } | undefined;
  while (serving === undefined) {
    if (gone) throw new Error(`replica ${name} exited before serving: ${stderr.join("").slice(-2000)}`);
    await sleep(50);
    const line = (await readFile(logFile, "utf8")).split("\n").find((l) => l.includes("residency is serving"));
    if (line !== undefined) serving = JSON.parse(line) as { port: number; grpc_port: number };
  }
  const { port, grpc_port: grpcPort } = serving;
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis channel of this run only. */
export const benchChannel = () => `residency-bench-${randomBytes(5).toString("hex")}`;
