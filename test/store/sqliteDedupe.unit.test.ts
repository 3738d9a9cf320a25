// The SQLite DedupeStore over a temporary file: the shared contracts (expiry on an injected
// clock and pruning among them), how it stores times, and two connections (as two processes
// would hold) racing for one key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, inboxKey } from "../../packages/core/src/bus/inbox.js";
import { createEnvelope, type EventEnvelope } from "../../packages/core/src/core/envelope.js";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDedupeStore } from "../../packages/sqlite/src/store/sqlite/dedupeStore.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import {
  testDedupeStore,
  testDedupeStoreClock,
  testDedupeStorePrune,
} from "../contracts/dedupeStore.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

let sqlite: MigratedSqlite;

beforeAll(() => {
  sqlite = migratedSqlite();
});

afterAll(() => sqlite.cleanup());

testDedupeStore("sqlite", () => createSqliteDedupeStore(sqlite.db));
testDedupeStoreClock("sqlite", (clock) => createSqliteDedupeStore(sqlite.db, { clock }));
testDedupeStorePrune("sqlite", {
  create: (options) => createSqliteDedupeStore(sqlite.db, options),
  clear: async () => void sqlite.db.prepare("DELETE FROM inbox").run(),
  keys: async () => rows().map((row) => row.key),
});

function rows(): { key: string; state: string; expires_at: number }[] {
  return sqlite.db.prepare("SELECT key, state, expires_at FROM inbox ORDER BY key").all() as never;
}

describe("sqlite DedupeStore with an injected clock", () => {
  it("stores expiry times as Unix milliseconds of the clock's time", async () => {
    const clock = new ManualClock(1_000_000);
    const store = createSqliteDedupeStore(sqlite.db, { clock });
    expect((await store.claim("clock:k", 30_000)).claimed).toBe(true);
    expect(rows().find((row) => row.key === "clock:k")).toEqual({
      key: "clock:k",
      state: "processing",
      expires_at: 1_030_000,
    });
  });
});

describe("sqlite DedupeStore across connections", () => {
  it("lets exactly one of two connections take over an expired key", async () => {
    const clock = new ManualClock(9_000_000);
    const other = openSqlite(sqlite.path);
    try {
      const a = createSqliteDedupeStore(sqlite.db, { clock });
      const b = createSqliteDedupeStore(other, { clock });
      await a.claim("conn:k", 1_000);
      clock.advance(1_000);
      const claims = await Promise.all([a.claim("conn:k", 1_000), b.claim("conn:k", 1_000)]);
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(claims.filter((claim) => !claim.claimed)).toEqual([
        { claimed: false, state: "processing" },
      ]);
    } finally {
      other.close();
    }
  });

  it("reports store.unavailable when the table is missing (database not migrated)", async () => {
    const bare = openSqlite(":memory:");
    const store = createSqliteDedupeStore(bare);
    await expect(store.claim("k", 1_000)).rejects.toMatchObject({ code: "store.unavailable" });
    bare.close();
  });
});

describe("inbox over SQLite", () => {
  it("runs a handler once per event id (docs/storage.md quickstart)", async () => {
    const charged: string[] = [];
    const chargeCustomer = async (event: EventEnvelope) => void charged.push(event.id);
    const event = createEnvelope({ type: "order.paid.v1", source: "shop", payload: {} });
    const { path } = sqlite;
    // #region inbox-quickstart
    const db = openSqlite(path);
    migrateSqlite(db);
    const inbox = createInbox(createSqliteDedupeStore(db));

    async function handle(event: EventEnvelope): Promise<string> {
      const claim = await inbox.claim("billing", event.id, 30_000);
      if (!claim.claimed) return claim.state; // "processing" elsewhere, or "done" already
      try {
        await chargeCustomer(event);
        await inbox.complete("billing", event.id, claim.token, 7 * 24 * 3_600_000);
        return "handled";
      } catch (error) {
        await inbox.release("billing", event.id, claim.token); // let a redelivery retry
        throw error;
      }
    }
    // #endregion inbox-quickstart
    expect(await handle(event)).toBe("handled");
    expect(await handle(event)).toBe("done");
    expect(charged).toEqual([event.id]);
    db.close();
  });

  it("handles one event once per consumer", async () => {
    const inbox = createInbox(createSqliteDedupeStore(sqlite.db));
    const eventId = "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11";
    const billing = await inbox.claim("billing", eventId, 30_000);
    if (!billing.claimed) throw new Error("expected a claim");
    expect((await inbox.claim("shipping", eventId, 30_000)).claimed).toBe(true);
    expect(await inbox.claim("billing", eventId, 30_000)).toEqual({
      claimed: false,
      state: "processing",
    });
    expect(await inbox.complete("billing", eventId, billing.token, 60_000)).toBe(true);
    expect(await inbox.claim("billing", eventId, 30_000)).toEqual({
      claimed: false,
      state: "done",
    });
    expect(rows().some((row) => row.key === inboxKey("billing", eventId))).toBe(true);
  });
});
