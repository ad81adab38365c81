import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import type { PolicyStore } from "../../src/store/policy-store.js";
import { openPostgresOrm } from "../../src/store/postgres/open-postgres-orm.js";
import {
  createPostgresPolicyStore,
  type PostgresPolicyStoreOptions,
} from "../../src/store/postgres/postgres-policy-store.js";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres/postgres-migrations-list.js";
import { parsePostgresUrl } from "../../src/store/postgres/postgres-url.js";
import { runPostgresMigrations } from "../../src/store/postgres/run-postgres-migrations.js";
import { fields, meta } from "./contract-fixtures.js";
import { policyStoreContract } from "./policy-store-contract.js";
import { adminQuery, createTestDatabase, type TestDatabase } from "./postgres-test-database.js";

policyStoreContract("Postgres", async () => {
  const db = await createTestDatabase();
  const opened: PolicyStore[] = [];
  const open = async () => {
    const store = createPostgresPolicyStore({ url: db.url, runMigrations: true });
    await store.open();
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    pruneChanges: async (version) => {
      await adminQuery("delete from change_log where version <= $1", [version], db.name);
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await db.drop();
    },
  };
});

const INITIAL = POSTGRES_MIGRATIONS.map((m) => m.name);

describe("Postgres policy store: migrations and connections", () => {
  let db: TestDatabase;
  const stores: PolicyStore[] = [];
  const make = (options: Partial<PostgresPolicyStoreOptions> = {}) => {
    const store = createPostgresPolicyStore({ url: db.url, runMigrations: true, ...options });
    stores.push(store);
    return store;
  };
  const tables = async () =>
    (
      await adminQuery<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        [],
        db.name,
      )
    ).map((r) => r.table_name);

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await db.drop();
  });

  it("migrates an empty database to the schema the entities describe", async () => {
    expect(await runPostgresMigrations(db.url)).toEqual(INITIAL);
    expect(await runPostgresMigrations(db.url)).toEqual([]);
    expect(await tables()).toEqual([
      "audit_chain_head",
      "audit_entry",
      "audit_spool_progress",
      "audit_violation",
      "change_log",
      "emergency_override",
      "mikro_orm_migrations",
      "policy",
      "policy_version",
      "region_status",
      "store_state",
    ]);
    expect(await adminQuery("select id, change_version from store_state", [], db.name)).toEqual([
      { id: 1, change_version: 0 },
    ]);
    const collated = await adminQuery(
      `select table_name || '.' || column_name as col from information_schema.columns
       where table_schema = 'public' and collation_name = 'C' order by 1`,
      [],
      db.name,
    );
    expect(collated.map((r) => r.col)).toEqual([
      "emergency_override.override_id",
      "emergency_override.tenant_id",
      "policy.learner_id",
      "policy.tenant_id",
      "policy_version.learner_id",
      "policy_version.tenant_id",
      "region_status.region_id",
    ]);
    // The entities and the migrations describe the same schema (a changed entity needs a new migration).
    const orm = await openPostgresOrm(parsePostgresUrl(db.url), {});
    try {
      expect(await orm.schema.getUpdateSchemaSQL({ safe: false, dropTables: false, wrap: false })).toBe("");
    } finally {
      await orm.close(true);
    }
  });

  it("lets replicas open a fresh database at the same time: one migrates, the others wait", async () => {
    const replicas = [make(), make(), make(), make()];
    await Promise.all(replicas.map((s) => s.open()));
    const applied = await adminQuery("select name from mikro_orm_migrations", [], db.name);
    expect(applied.map((r) => r.name)).toEqual(INITIAL);
    const writes = await Promise.all(replicas.map((s, i) => s.createPolicy(fields(`t${i}`), meta(i))));
    expect(writes.map((w) => w.changeVersion).sort()).toEqual([1, 2, 3, 4]);
  });

  it("refuses to open an unmigrated database without runMigrations, and changes nothing", async () => {
    const err = await make({ runMigrations: false })
      .open()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`127.0.0.1:5432/${db.name} is not migrated`);
    expect((err as Error).message).toContain(INITIAL[0]);
    expect(await tables()).toEqual([]);
    await runPostgresMigrations(db.url);
    const store = make({ runMigrations: false });
    await store.open();
    await expect(store.createPolicy(fields("acme"), meta(1))).resolves.toMatchObject({ changeVersion: 1 });
  });

  it("accepts the postgresql+asyncpg:// and postgres:// spellings", async () => {
    const asyncpg = make({ url: db.url.replace(/^postgres(ql)?:/, "postgresql+asyncpg:") });
    await asyncpg.open();
    await asyncpg.createPolicy(fields("acme"), meta(1));
    const plain = make({ url: db.url.replace(/^postgres(ql)?:/, "postgres:"), runMigrations: false });
    await plain.open();
    expect((await plain.loadSnapshotData()).policies).toHaveLength(1);
  });

  it("rejects other URLs at once, without echoing them", () => {
    for (const url of ["mysql://u:s3cret@h/db", "postgres://u:s3cret@h:5432/", "s3cret"]) {
      let err: unknown;
      try {
        createPostgresPolicyStore({ url, runMigrations: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/database URL/);
      expect((err as Error).message).not.toContain("s3cret");
    }
  });

  it("orders tenants, learners and regions by byte order, whatever the database collation", async () => {
    const store = make();
    await store.open();
    const tenants = ["a", "B", "_x", "Z"];
    for (const [i, t] of tenants.entries()) {
      await store.createPolicy(fields(t), meta(i));
      await store.createPolicy(fields(t, "b"), meta(i));
      await store.createPolicy(fields(t, "A"), meta(i));
    }
    for (const r of ["b-1", "A-1", "_-1"]) await store.setRegionStatus(r, "DOWN", "", meta(9));
    const expected = ["B", "Z", "_x", "a"].flatMap((t) => [`${t}/`, `${t}/A`, `${t}/b`]);
    const listed = await store.listPolicies({ tenantId: "", limit: 100, after: undefined });
    expect(listed.map((p) => `${p.tenantId}/${p.learnerId}`)).toEqual(expected);
    const page = await store.listPolicies({ tenantId: "", limit: 2, after: { tenantId: "Z", learnerId: "A" } });
    expect(page.map((p) => `${p.tenantId}/${p.learnerId}`)).toEqual(["Z/b", "_x/"]);
    const snap = await store.loadSnapshotData();
    expect(snap.policies.map((p) => `${p.tenantId}/${p.learnerId}`)).toEqual(expected);
    expect(snap.regionStatuses.map((r) => r.regionId)).toEqual(["A-1", "_-1", "b-1"]);
  });
});
