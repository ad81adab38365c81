import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261127123213_initial } from "./migrations/Migration20261127123213_initial.js";
import { Migration20261127130006_audit } from "./migrations/Migration20261127130006_audit.js";
import { Migration20261127134438_emergency_override } from "./migrations/Migration20261127134438_emergency_override.js";

/** Where the MikroORM migrator records applied migrations (in the connection's default schema). */
export const POSTGRES_MIGRATIONS_TABLE = "mikro_orm_migrations";

/**
 * Every migration of the Postgres schema, oldest first. A new one is generated into ./migrations (see the README
 * there), reviewed, and appended here; its name is what the migrations table records, so never rename one.
 */
export const POSTGRES_MIGRATIONS: MigrationObject[] = [
  { name: "Migration20261127123213_initial", class: Migration20261127123213_initial },
  { name: "Migration20261127130006_audit", class: Migration20261127130006_audit },
  { name: "Migration20261127134438_emergency_override", class: Migration20261127134438_emergency_override },
];
