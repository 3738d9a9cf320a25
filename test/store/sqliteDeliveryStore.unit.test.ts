// The SQLite DeliveryStore on a temporary file: the shared contract (extra handles are extra
// connections to the same file), plus what only SQLite shows.
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase } from "../../src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../src/store/sqlite/deliveryStore.js";
import { testDeliveryStore } from "../contracts/deliveryStore.js";
import { migratedSqlite } from "../helpers/sqlite.js";

testDeliveryStore("sqlite", async (clock) => {
  const { db, path, cleanup } = migratedSqlite();
  const others: SqliteDatabase[] = [];
  return {
    store: createSqliteDeliveryStore(db, { clock }),
    async connect() {
      const other = openSqlite(path);
      others.push(other);
      return createSqliteDeliveryStore(other, { clock });
    },
    async close() {
      for (const other of others) other.close();
      cleanup();
    },
  };
});

describe("sqlite DeliveryStore", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  function open() {
    const { db, cleanup } = migratedSqlite();
    cleanups.push(cleanup);
    return db;
  }

  it("stores times as Unix milliseconds and booleans as 0/1", async () => {
    const db = open();
    const store = createSqliteDeliveryStore(db, { clock: { now: () => 1_700_000_000_123 } });
    const endpoint = await store.createEndpoint({ target: "https://x.example", eventTypes: ["*"] });
    expect(db.prepare("SELECT created_at, enabled FROM endpoints").get()).toEqual({
      created_at: 1_700_000_000_123,
      enabled: 1,
    });
    expect(endpoint.createdAt).toBe("2023-11-14T22:13:20.123Z");
  });

  it("leaves the database open on close, and reports a closed one as store.unavailable (ping too)", async () => {
    const db = open();
    const store = createSqliteDeliveryStore(db);
    await store.close();
    expect(db.open).toBe(true);
    await expect(store.ping()).resolves.toBeUndefined();
    db.close();
    await expect(store.listEventTypes()).rejects.toMatchObject({ code: "store.unavailable" });
    await expect(store.ping()).rejects.toMatchObject({ code: "store.unavailable" });
  });
});
