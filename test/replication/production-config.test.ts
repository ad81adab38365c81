import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createTestDatabase, startTestApp, type TestDatabase } from "./replication-fixture.js";

const run = promisify(execFile);
const migrate = (env: Record<string, string>) =>
  run(process.execPath, ["--import", "tsx", "src/cli/migrate.ts"], { env: { ...process.env, DATABASE_URL: "", ...env }, timeout: 60_000 }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );

describe("production-mode settings", () => {
  it("has defaults for every replication setting and checks each one", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      runMigrations: true,
      redisChannel: "residency:changes",
      snapshotMaxStalenessMs: 30_000,
      minSnapshotWaitMs: 200,
      outboxRelayIntervalMs: 5_000,
    });
    expect(loadConfig({ RUN_MIGRATIONS: "false", REDIS_CHANNEL: "prod:eu", MIN_SNAPSHOT_WAIT_MS: "0" })).toMatchObject({
      runMigrations: false,
      redisChannel: "prod:eu",
      minSnapshotWaitMs: 0,
    });
    let error: unknown;
    try {
      loadConfig({ RUN_MIGRATIONS: "sometimes", SNAPSHOT_MAX_STALENESS_MS: "5", REDIS_CHANNEL: "a b", OUTBOX_RELAY_INTERVAL_MS: "-1" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of ["RUN_MIGRATIONS", "SNAPSHOT_MAX_STALENESS_MS", "REDIS_CHANNEL", "OUTBOX_RELAY_INTERVAL_MS"]) {
      expect((error as ConfigError).message).toContain(name);
    }
  });
});

describe("migrations", () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("`npm run migrate` applies them from DATABASE_URL, once; a replica with RUN_MIGRATIONS=false waits for it", async () => {
    // Not migrated and told not to migrate: the replica refuses to start, naming the way out.
    const dir = await mkdtemp(join(tmpdir(), "residency-unmigrated-"));
    try {
      await expect(startTestApp({ DATABASE_URL: db.url, RUN_MIGRATIONS: "false" }, dir)).rejects.toThrow(/npm run migrate/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const first = await migrate({ DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+: Migration\d+_initial/);
    expect((await migrate({ DATABASE_URL: db.url })).stdout).toContain("no pending migrations");

    const t = await startTestApp({ DATABASE_URL: db.url, RUN_MIGRATIONS: "false" });
    await t.cleanup();
  });

  it("`npm run migrate` without DATABASE_URL says what is missing", async () => {
    const result = await migrate({});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("DATABASE_URL is not set");
  });
});
