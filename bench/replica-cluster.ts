// Replicas of the service in processes of their own, on one fresh Postgres database and one Redis channel, for the
// replication benches. Every replica is `npm start`'s command on ephemeral ports.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
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
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** Starts a replica and resolves once it logs "residency is serving". */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const dir = await mkdtemp(join(tmpdir(), "residency-bench-"));
  // BENCH_NODE_ARGS: extra node flags for the replicas, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/main.ts"], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", METRICS_PORT: "0", DATA_DIR: dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit");
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => void stderr.push(chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes("residency is serving")) return;
      resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => reject(new Error(`replica ${name} exited before serving: ${stderr.join("").slice(-2000)}`)));
  });
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
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
