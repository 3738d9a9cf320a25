// The SQLite DedupeStore over a temporary file: the shared contract, expiry on an injected
// clock, pruning, and two connections (as two processes would hold) racing for one key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { createEnvelope, type EventEnvelope } from "../../src/core/envelope.js";
import { createInbox, inboxKey } from "../../src/store/inbox.js";
import { openSqlite, type SqliteDatabase } from "../../src/store/sqlite/database.js";
import { createSqliteDedupeStore } from "../../src/store/sqlite/dedupeStore.js";
import { migrateSqlite } from "../../src/store/sqlite/migrate.js";
import { testDedupeStore } from "../contracts/dedupeStore.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

const file = tempSqlitePath();
let db: SqliteDatabase;

beforeAll(() => {
  db = openSqlite(file.path);
  migrateSqlite(db);
});

afterAll(() => {
  db.close();
  file.cleanup();
});

testDedupeStore("sqlite", () => createSqliteDedupeStore(db));

function rows(): { key: string; state: string; expires_at: number }[] {
  return db.prepare("SELECT key, state, expires_at FROM inbox ORDER BY key").all() as never;
}

describe("sqlite DedupeStore with an injected clock", () => {
  it("expires leases and ttls on the clock's time and stores them as Unix milliseconds", async () => {
    const clock = new ManualClock(1_000_000);
    const store = createSqliteDedupeStore(db, { clock });
    const first = await store.claim("clock:k", 30_000);
    if (!first.claimed) throw new Error("expected a claim");
    expect(rows().find((row) => row.key === "clock:k")).toEqual({
      key: "clock:k",
      state: "processing",
      expires_at: 1_030_000,
    });

    clock.advance(29_999);
    expect(await store.claim("clock:k", 30_000)).toEqual({ claimed: false, state: "processing" });
    clock.advance(1);
    expect(await store.complete("clock:k", first.token, 60_000)).toBe(false);
    const second = await store.claim("clock:k", 30_000);
    if (!second.claimed) throw new Error("expected the expired lease to be claimable");

    expect(await store.complete("clock:k", second.token, 86_400_000)).toBe(true);
    clock.advance(86_399_999);
    expect(await store.claim("clock:k", 30_000)).toEqual({ claimed: false, state: "done" });
    clock.advance(1);
    expect((await store.claim("clock:k", 30_000)).claimed).toBe(true);
  });
});

describe("sqlite DedupeStore prune", () => {
  it("deletes exactly the expired rows, in batches, and returns how many", async () => {
    db.prepare("DELETE FROM inbox").run();
    const clock = new ManualClock(5_000_000);
    const store = createSqliteDedupeStore(db, { clock, pruneBatchSize: 2 });
    for (let i = 0; i < 5; i++) await store.claim(`prune:lease:${i}`, 1_000);
    const done = await store.claim("prune:done", 1_000);
    if (!done.claimed) throw new Error("expected a claim");
    await store.complete("prune:done", done.token, 10_000);
    await store.claim("prune:live", 60_000);

    expect(await store.prune()).toBe(0);
    clock.advance(1_000);
    expect(await store.prune()).toBe(5);
    expect(rows().map((row) => row.key)).toEqual(["prune:done", "prune:live"]);
    clock.advance(9_000);
    expect(await store.prune()).toBe(1);
    expect(rows().map((row) => row.key)).toEqual(["prune:live"]);
  });
});

describe("sqlite DedupeStore across connections", () => {
  it("lets exactly one of two connections take over an expired key", async () => {
    const clock = new ManualClock(9_000_000);
    const other = openSqlite(file.path);
    try {
      const a = createSqliteDedupeStore(db, { clock });
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
    const { path } = file;
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
    const inbox = createInbox(createSqliteDedupeStore(db));
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
