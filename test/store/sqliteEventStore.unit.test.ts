// The SQLite EventStore: the shared contract on a temporary file, plus what only SQLite has —
// durable rows across reopening, and a second connection (another process) writing the file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteEventStore } from "../../packages/sqlite/src/store/sqlite/eventStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { event, rejection, testEventStore, uniqueStream } from "../contracts/eventStore.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

let sqlite: MigratedSqlite;

beforeAll(() => {
  sqlite = migratedSqlite("events.db");
});

afterAll(() => sqlite.cleanup());

testEventStore("sqlite", (options) => createSqliteEventStore(sqlite.db, options));

describe("sqlite EventStore", () => {
  it("keeps events and checkpoints when the file is reopened", async () => {
    const stream = uniqueStream();
    const store = createSqliteEventStore(sqlite.db);
    const { events } = await store.publish(stream, 0, [event(), event()]);
    await store.saveCheckpoint("reopen", events[1]!.checkpoint);
    const reopened = openSqlite(sqlite.path);
    try {
      const again = createSqliteEventStore(reopened);
      expect(await again.load(stream)).toEqual(events);
      expect(await again.getCheckpoint("reopen")).toBe(events[1]!.checkpoint);
    } finally {
      reopened.close();
    }
  });

  it("stamps committedAt from the injected clock", async () => {
    const clock = new ManualClock(new Date("2031-06-07T08:09:10.111Z"));
    const store = createSqliteEventStore(sqlite.db, { clock });
    const { events } = await store.append(uniqueStream(), [event()]);
    expect(events[0]!.committedAt).toBe("2031-06-07T08:09:10.111Z");
    expect((await store.load(events[0]!.stream))[0]!.committedAt).toBe("2031-06-07T08:09:10.111Z");
  });

  it("sees the head another connection wrote, and conflicts with it", async () => {
    const stream = uniqueStream();
    const other = openSqlite(sqlite.path);
    try {
      await createSqliteEventStore(other).append(stream, [event(), event()]);
      const store = createSqliteEventStore(sqlite.db);
      const error = await rejection(store.append(stream, [event()], { expectedVersion: 1 }));
      expect(error.details).toEqual({ stream, expected: 1, actual: 2 });
    } finally {
      other.close();
    }
  });

  it("reports a write lock held past busy_timeout as store.unavailable, writing nothing", async () => {
    const holder = openSqlite(sqlite.path);
    const impatient = openSqlite(sqlite.path, { busyTimeoutMs: 50 });
    const stream = uniqueStream();
    try {
      holder.prepare("BEGIN IMMEDIATE").run();
      const error = await rejection(createSqliteEventStore(impatient).append(stream, [event()]));
      expect(error.code).toBe("store.unavailable");
      holder.prepare("ROLLBACK").run();
      expect(await createSqliteEventStore(sqlite.db).streamVersion(stream)).toBe(0);
    } finally {
      impatient.close();
      holder.close();
    }
  });

  it("says so when the database was not migrated", () => {
    const bare = openSqlite(":memory:");
    try {
      expect(() => createSqliteEventStore(bare)).toThrow(/not migrated/);
    } finally {
      bare.close();
    }
  });

  it("does not close the database it was given", async () => {
    const store = createSqliteEventStore(sqlite.db);
    await store.close();
    expect(sqlite.db.open).toBe(true);
  });
});
