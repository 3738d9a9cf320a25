// Migration 007 (the self-filling catalogue) on a PostgreSQL schema that already holds messages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { postgresMigrations } from "../../packages/postgres/src/store/postgres/migrate.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { AFTER, DECLARED, MESSAGES } from "./catalogMigrationFixture.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("PostgreSQL migration 007_catalog_auto", () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema("catalog_migration", { migrate: false });
  });
  afterAll(async (suite) => {
    await db?.dropIfPassed(suite);
  });

  it("counts the messages stored before it", async () => {
    const migrations = postgresMigrations();
    for (const m of migrations.filter((m) => m.version < 7)) await db.pool.query(m.sql);
    for (const t of DECLARED) {
      await db.pool.query(
        "INSERT INTO event_types (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        [t.name, t.description, new Date(t.at)],
      );
    }
    for (const m of MESSAGES) {
      await db.pool.query(
        "INSERT INTO messages (id, type, payload, created_at) VALUES ($1, $2, '{}', $3)",
        [m.id, m.type, new Date(m.at)],
      );
    }
    await db.pool.query(migrations.find((m) => m.version === 7)!.sql);
    expect(await createPostgresDeliveryStore(db.pool).listEventTypes()).toEqual(AFTER);
  });
});
