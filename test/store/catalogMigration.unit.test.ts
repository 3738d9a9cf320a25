// Migration 007 (the self-filling catalogue) on a SQLite database that already holds messages:
// every stored message counts, declared types keep their declaration, the others are recorded.
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";

describe("SQLite migration 007_catalog_auto", () => {
  it("counts the messages stored before it", () => {
    const db = openSqlite(":memory:");
    const migrations = sqliteMigrations();
    for (const m of migrations.filter((m) => m.version < 7)) db.exec(m.sql);
    db.prepare(
      "INSERT INTO event_types (name, description, created_at, updated_at) VALUES ('order.created.v1', 'declared', 1000, 1000)",
    ).run();
    db.prepare(
      "INSERT INTO event_types (name, created_at, updated_at) VALUES ('never.seen', 1000, 1000)",
    ).run();
    const insert = db.prepare(
      "INSERT INTO messages (id, type, payload, created_at) VALUES (?, ?, '{}', ?)",
    );
    insert.run("msg_1", "order.created.v1", 3000);
    insert.run("msg_2", "order.created.v1", 2000);
    insert.run("msg_3", "shop.paid", 2500);
    db.exec(migrations.find((m) => m.version === 7)!.sql);
    expect(
      db
        .prepare(
          "SELECT name, description, auto, first_seen_at, last_seen_at, seen_count, created_at, updated_at FROM event_types ORDER BY name",
        )
        .all(),
    ).toEqual([
      {
        name: "never.seen",
        description: "",
        auto: 0,
        first_seen_at: null,
        last_seen_at: null,
        seen_count: 0,
        created_at: 1000,
        updated_at: 1000,
      },
      {
        name: "order.created.v1",
        description: "declared",
        auto: 0,
        first_seen_at: 2000,
        last_seen_at: 3000,
        seen_count: 2,
        created_at: 1000,
        updated_at: 1000,
      },
      {
        name: "shop.paid",
        description: "",
        auto: 1,
        first_seen_at: 2500,
        last_seen_at: 2500,
        seen_count: 1,
        created_at: 2500,
        updated_at: 2500,
      },
    ]);
    db.close();
  });
});
