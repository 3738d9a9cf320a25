// Migration 007 (the self-filling catalogue) on a SQLite database that already holds messages:
// every stored message counts, declared types keep their declaration, the others are recorded.
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";

describe("SQLite migration 007_catalog_auto", () => {
  it("counts the messages stored before it", async () => {
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
    // Read back as the store reads the catalogue.
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await createSqliteDeliveryStore(db).listEventTypes()).toEqual([
      {
        name: "never.seen",
        description: "",
        schema: null,
        deprecated: false,
        auto: false,
        firstSeenAt: null,
        lastSeenAt: null,
        count: 0,
        createdAt: iso(1000),
        updatedAt: iso(1000),
      },
      {
        name: "order.created.v1",
        description: "declared",
        schema: null,
        deprecated: false,
        auto: false,
        firstSeenAt: iso(2000),
        lastSeenAt: iso(3000),
        count: 2,
        createdAt: iso(1000),
        updatedAt: iso(1000),
      },
      {
        name: "shop.paid",
        description: "",
        schema: null,
        deprecated: false,
        auto: true,
        firstSeenAt: iso(2500),
        lastSeenAt: iso(2500),
        count: 1,
        createdAt: iso(2500),
        updatedAt: iso(2500),
      },
    ]);
    db.close();
  });
});
