// `npm run bench:scale`: cold start of a replica at 10k, 100k and 1M policies. For each size: a fresh Postgres
// database, migrated, filled with SQL (a quarter tenant policies, three learner policies per tenant, three
// archetypes: US/FERPA, EU/GDPR, Canada/PIPEDA), then a child process (a clean heap) starts the replication layer
// as a replica does (store open, first full snapshot load) and reports load time and memory, then in-process
// decide() latency over that snapshot and the time to apply a one-policy delta at that size.
// Results: printed, and bench/results/scale.json. Knobs: BENCH_SCALE_SIZES=10000,100000,1000000,
// BENCH_SCALE_HEAP_MB=8192 (--max-old-space-size of the child), BENCH_POSTGRES_URL.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createBenchDatabase } from "./replica-cluster.js";
import { fillPolicies } from "./scale-fill.js";
import { describeMachine, machineInfo } from "./machine.js";
import { formatInt, formatNs, textTable, type LatencySummary } from "./stats.js";
import type { ScaleChildResult } from "./scale-child.js";

const here = dirname(fileURLToPath(import.meta.url));
const log = (line = ""): void => void process.stdout.write(`${line}\n`);
const run = promisify(execFile);

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SCALE_SIZES ?? "10000,100000,1000000").split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 4)) throw new Error("BENCH_SCALE_SIZES: whole numbers of at least 4, comma-separated");
  const heapMb = Number(process.env.BENCH_SCALE_HEAP_MB ?? 8192);
  log("residency scale bench (issue #4): cold-start snapshot load, memory and decision latency by policy count");
  log(describeMachine(machineInfo()));

  const results: (ScaleChildResult & { fillMs: number })[] = [];
  for (const size of sizes) {
    const db = await createBenchDatabase("residency_bench_scale");
    try {
      const { runPostgresMigrations } = await import("../src/store/postgres/run-postgres-migrations.js");
      await runPostgresMigrations(db.url);
      const fillMs = await fillPolicies(db.name, size);
      log(`\n${formatInt(size)} policies inserted in ${(fillMs / 1000).toFixed(1)} s; starting a replica in a fresh process…`);
      const { stdout } = await run(
        process.execPath,
        [`--max-old-space-size=${heapMb}`, "--expose-gc", "--import", "tsx", join(here, "scale-child.ts"), db.url],
        { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 },
      );
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as ScaleChildResult;
      results.push({ ...result, fillMs });
      log(
        `  loaded ${formatInt(result.policies)} policies in ${(result.loadMs / 1000).toFixed(2)} s ` +
          `(store read ${(result.readMs / 1000).toFixed(2)} s, merge ${(result.buildMs / 1000).toFixed(2)} s); ` +
          `RSS ${formatInt(result.rssMb)} MiB, heap ${formatInt(result.heapUsedMb)} MiB`,
      );
    } finally {
      await db.drop();
    }
  }

  log();
  log(
    textTable(
      ["policies", "cold load", "store read", "merge", "RSS", "heap", "decide p50", "decide p99", "delta p50", "delta p99"],
      results.map((r) => [
        formatInt(r.policies),
        `${(r.loadMs / 1000).toFixed(2)} s`,
        `${(r.readMs / 1000).toFixed(2)} s`,
        `${(r.buildMs / 1000).toFixed(2)} s`,
        `${formatInt(r.rssMb)} MiB`,
        `${formatInt(r.heapUsedMb)} MiB`,
        formatNs(r.decide.p50),
        formatNs(r.decide.p99),
        formatNs(r.delta.p50),
        formatNs(r.delta.p99),
      ]),
    ),
  );
  log("cold load = store open + one consistent read of every policy + merge into the snapshot (what a replica does before it serves)");
  log("decide = decide() in process over that snapshot (timer overhead included); delta = applySnapshotChanges for one updated learner policy");
  await mkdir(join(here, "results"), { recursive: true });
  await writeFile(join(here, "results", "scale.json"), `${JSON.stringify({ machine: machineInfo(), results }, null, 2)}\n`);
}

export type { LatencySummary };

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
