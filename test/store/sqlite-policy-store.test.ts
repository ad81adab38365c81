import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { EMPTY_POLICY_FIELDS, type PolicyFields } from "../../src/domain/policy.js";
import type { PolicyStore } from "../../src/store/policy-store.js";
import { createSqlitePolicyStore, type SqlitePolicyStoreOptions } from "../../src/store/sqlite/sqlite-policy-store.js";
import { policyStoreContract } from "./policy-store-contract.js";

// better-sqlite3 ships no types here; these are the calls the tests need.
type Database = {
  exec(sql: string): void;
  prepare(sql: string): { all(): unknown[] };
  close(): void;
};
const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => Database;

/** Runs SQL on the file directly, beside any open store (WAL lets it). */
function execSql(path: string, sql: string): void {
  const db = new Database(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

policyStoreContract("SQLite", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "residency-store-"));
  const opened: PolicyStore[] = [];
  const open = async () => {
    const store = createSqlitePolicyStore({ dataDir });
    await store.open();
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    pruneChanges: async (version) =>
      execSql(join(dataDir, "residency.sqlite"), `delete from change_log where version <= ${version}`),
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const tenantPolicy: PolicyFields = { ...EMPTY_POLICY_FIELDS, tenantId: "acme", primaryRegion: "eu-west-1" };

describe("SQLite policy store", () => {
  let root: string;
  const stores: PolicyStore[] = [];
  const make = (options: SqlitePolicyStoreOptions) => {
    const store = createSqlitePolicyStore(options);
    stores.push(store);
    return store;
  };
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "residency-sqlite-"));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await rm(root, { recursive: true, force: true });
  });

  it("creates a missing data directory and the default file, in WAL mode", async () => {
    const dataDir = join(root, "nested", "data");
    const store = make({ dataDir });
    await store.open();
    await store.createPolicy(tenantPolicy, { actor: "a", now: 1 });
    expect(existsSync(join(dataDir, "residency.sqlite"))).toBe(true);
    expect(existsSync(join(dataDir, "residency.sqlite-wal"))).toBe(true);
  });

  it("honours fileName", async () => {
    await make({ dataDir: root, fileName: "policies.db" }).open();
    expect(existsSync(join(root, "policies.db"))).toBe(true);
  });

  it("is UNAVAILABLE when the data directory cannot be created", async () => {
    await writeFile(join(root, "a-file"), "not a directory");
    const err = await make({ dataDir: join(root, "a-file", "data") }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(join(root, "a-file", "data"));
  });

  it("is UNAVAILABLE when the database file cannot be opened", async () => {
    await mkdir(join(root, "residency.sqlite")); // a directory where the file should be
    const err = await make({ dataDir: root }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(join(root, "residency.sqlite"));
  });

  it("is UNAVAILABLE when the file is not a database", async () => {
    await writeFile(join(root, "residency.sqlite"), "x".repeat(4096));
    await expect(make({ dataDir: root }).open()).rejects.toBeInstanceOf(UnavailableError);
  });

  it("is UNAVAILABLE before open and after close", async () => {
    const store = make({ dataDir: root });
    await expect(store.getPolicy("pol_x")).rejects.toBeInstanceOf(UnavailableError);
    await store.open();
    await store.close();
    await expect(store.loadSnapshotData()).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.createPolicy(tenantPolicy, { actor: "a", now: 1 })).rejects.toBeInstanceOf(UnavailableError);
  });

  it("logs no SQL unless debug is set", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const quiet = make({ dataDir: join(root, "quiet") });
    await quiet.open();
    await quiet.createPolicy(tenantPolicy, { actor: "a", now: 1 });
    expect(log).not.toHaveBeenCalled();
    const loud = make({ dataDir: join(root, "loud"), debug: true });
    await loud.open();
    await loud.createPolicy(tenantPolicy, { actor: "a", now: 1 });
    expect(log.mock.calls.some((args) => String(args[0]).includes("insert into"))).toBe(true);
  });

  it("leaves tables it does not own alone when it updates the schema", async () => {
    const db = new Database(join(root, "residency.sqlite"));
    db.exec("create table other_module (id integer primary key); insert into other_module values (7);");
    db.close();
    await make({ dataDir: root }).open();
    const check = new Database(join(root, "residency.sqlite"));
    expect(check.prepare("select id from other_module").all()).toEqual([{ id: 7 }]);
    check.close();
  });

  it("ignores MIKRO_ORM_* environment variables (MikroORM.init would apply them)", async () => {
    vi.stubEnv("MIKRO_ORM_DB_NAME", join(root, "elsewhere.sqlite"));
    vi.stubEnv("MIKRO_ORM_DEBUG", "true");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const store = make({ dataDir: root });
    await store.open();
    await store.ping();
    expect(existsSync(join(root, "residency.sqlite"))).toBe(true);
    expect(existsSync(join(root, "elsewhere.sqlite"))).toBe(false);
    expect(log).not.toHaveBeenCalled();
  });

  it("upgrades a file written before the change log and region statuses existed", async () => {
    const old = make({ dataDir: root });
    await old.open();
    await old.createPolicy(tenantPolicy, { actor: "a", now: 1 });
    await old.close();
    execSql(join(root, "residency.sqlite"), "drop table change_log; drop table region_status;");
    const store = make({ dataDir: root });
    await store.open();
    // Version 1 has no change row: a replica at 0 must reload everything, one at 1 can follow the log.
    expect(await store.loadChangesSince(0)).toBeUndefined();
    const region = await store.setRegionStatus("eu-west-1", "DOWN", "outage", { actor: "a", now: 2 });
    expect(region.changeVersion).toBe(2);
    expect((await store.loadChangesSince(1))?.regionStatuses).toEqual([region.value]);
    expect((await store.loadSnapshotData()).policies).toHaveLength(1);
  });
});
