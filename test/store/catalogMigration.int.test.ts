// Migration 007 (the self-filling catalogue) on a PostgreSQL schema that already holds messages:
// every stored message counts, declared types keep their declaration, the others are recorded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { postgresMigrations } from "../../packages/postgres/src/store/postgres/migrate.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

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
    const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
    await db.pool.query(
      "INSERT INTO event_types (name, description, created_at, updated_at) VALUES ('order.created.v1', 'declared', $1, $1), ('never.seen', '', $1, $1)",
      [at(1)],
    );
    await db.pool.query(
      "INSERT INTO messages (id, type, payload, created_at) VALUES ('msg_1', 'order.created.v1', '{}', $1), ('msg_2', 'order.created.v1', '{}', $2), ('msg_3', 'shop.paid', '{}', $3)",
      [at(3), at(2), at(2.5)],
    );
    await db.pool.query(migrations.find((m) => m.version === 7)!.sql);
    // Read back as the store reads the catalogue.
    const iso = (s: number) => at(s).toISOString();
    expect(await createPostgresDeliveryStore(db.pool).listEventTypes()).toEqual([
      {
        name: "never.seen",
        description: "",
        schema: null,
        deprecated: false,
        auto: false,
        firstSeenAt: null,
        lastSeenAt: null,
        count: 0,
        createdAt: iso(1),
        updatedAt: iso(1),
      },
      {
        name: "order.created.v1",
        description: "declared",
        schema: null,
        deprecated: false,
        auto: false,
        firstSeenAt: iso(2),
        lastSeenAt: iso(3),
        count: 2,
        createdAt: iso(1),
        updatedAt: iso(1),
      },
      {
        name: "shop.paid",
        description: "",
        schema: null,
        deprecated: false,
        auto: true,
        firstSeenAt: iso(2.5),
        lastSeenAt: iso(2.5),
        count: 1,
        createdAt: iso(2.5),
        updatedAt: iso(2.5),
      },
    ]);
  });
});
