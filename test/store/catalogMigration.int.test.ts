// Migration 007 (the self-filling catalogue) on a PostgreSQL schema that already holds messages:
// every stored message counts, declared types keep their declaration, the others are recorded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
    const { rows } = await db.pool.query(
      "SELECT name, description, auto, first_seen_at, last_seen_at, seen_count::int AS seen_count, created_at, updated_at FROM event_types ORDER BY name",
    );
    expect(rows).toEqual([
      {
        name: "never.seen",
        description: "",
        auto: false,
        first_seen_at: null,
        last_seen_at: null,
        seen_count: 0,
        created_at: at(1),
        updated_at: at(1),
      },
      {
        name: "order.created.v1",
        description: "declared",
        auto: false,
        first_seen_at: at(2),
        last_seen_at: at(3),
        seen_count: 2,
        created_at: at(1),
        updated_at: at(1),
      },
      {
        name: "shop.paid",
        description: "",
        auto: true,
        first_seen_at: at(2.5),
        last_seen_at: at(2.5),
        seen_count: 1,
        created_at: at(2.5),
        updated_at: at(2.5),
      },
    ]);
  });
});
