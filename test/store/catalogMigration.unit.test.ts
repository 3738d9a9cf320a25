// Migration 007 (the self-filling catalogue) on a SQLite database that already holds messages.
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { AFTER, DECLARED, MESSAGES } from "./catalogMigrationFixture.js";

describe("SQLite migration 007_catalog_auto", () => {
  it("counts the messages stored before it", async () => {
    const db = openSqlite(":memory:");
    const migrations = sqliteMigrations();
    for (const m of migrations.filter((m) => m.version < 7)) db.exec(m.sql);
    const declare = db.prepare(
      "INSERT INTO event_types (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)",
    );
    for (const t of DECLARED) declare.run(t.name, t.description, t.at, t.at);
    const store = db.prepare(
      "INSERT INTO messages (id, type, payload, created_at) VALUES (?, ?, '{}', ?)",
    );
    for (const m of MESSAGES) store.run(m.id, m.type, m.at);
    db.exec(migrations.find((m) => m.version === 7)!.sql);
    expect(await createSqliteDeliveryStore(db).listEventTypes()).toEqual(AFTER);
    db.close();
  });
});
