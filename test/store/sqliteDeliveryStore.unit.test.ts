// The SQLite DeliveryStore on a temporary file: the shared contract (extra handles are extra
// connections to the same file), plus what only SQLite shows.
import { existsSync, mkdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";
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
    return openWithPath().db;
  }

  function openWithPath() {
    const { db, path, cleanup } = migratedSqlite();
    cleanups.push(cleanup);
    return { db, path };
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

  it("probeWrite commits the probe row and leaves no headroom file behind", async () => {
    const { db, path } = openWithPath();
    const store = createSqliteDeliveryStore(db, { clock: { now: () => 1_700_000_000_123 } });
    await store.probeWrite();
    await store.probeWrite();
    expect(db.prepare("SELECT id, probed_at FROM write_probe").all()).toEqual([
      { id: 1, probed_at: 1_700_000_000_123 },
    ]);
    expect(existsSync(`${path}-probe`)).toBe(false);
    const memory = openSqlite(":memory:");
    migrateSqlite(memory);
    await expect(createSqliteDeliveryStore(memory).probeWrite()).resolves.toBeUndefined();
    memory.close();
  });

  it("probeWrite fails as store.unavailable, without the path, when nothing can be written next to the database", async () => {
    const { db, path } = openWithPath();
    // A directory where the headroom file goes: opening it for writing fails (EISDIR).
    mkdirSync(`${path}-probe`);
    const error = await createSqliteDeliveryStore(db)
      .probeWrite()
      .catch((e: unknown) => e as Error);
    expect(error).toMatchObject({
      code: "store.unavailable",
      message:
        "The filesystem of the SQLite database does not take a 1 MiB write next to it (EISDIR)",
    });
    expect((error as Error).message).not.toContain(path);
  });

  it("probeWrite waits for another connection's write lock only briefly, on the event loop", async () => {
    const { db, path } = openWithPath();
    const store = createSqliteDeliveryStore(db, { writeProbe: { busyTimeoutMs: 100 } });
    const other = openSqlite(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      const started = performance.now();
      await expect(store.probeWrite()).rejects.toMatchObject({ code: "store.unavailable" });
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(2_000);
      // The connection's own busy timeout is back for everything else.
      expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
      other.exec("ROLLBACK");
      await expect(store.probeWrite()).resolves.toBeUndefined();
    } finally {
      other.close();
    }
  });
});
