// The SQLite writer thread (src/store/sqlite/writerThread.ts) as `herald serve` runs it: from
// the build (the thread's script is compiled JavaScript: `npm run build` first). Batches are
// written by the thread's own connection and read back on another one; dedupe is decided in the
// thread's transaction, also between two writers racing on the same key; errors come back as
// the same codes; closing writes what was sent first. Batches queued while the thread is busy
// are written together in one transaction (the test holds the write lock on its own connection
// so they queue): decided in order, a bad one failing alone.
import { existsSync, statSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CreateMessageInput, DeliveryStore } from "../../src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../src/store/sqlite/deliveryStore.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const built = new URL("../../dist/store/sqlite/writerThread.js", import.meta.url);

type WriterModule = typeof import("../../src/store/sqlite/writerThread.js");
let writerModule: WriterModule;

beforeAll(async () => {
  if (!existsSync(built))
    throw new Error("Build first (npm run build): dist/ has no writer thread");
  writerModule = (await import(built.href)) as WriterModule;
});

let sqlite: MigratedSqlite | undefined;
const writers: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
  sqlite?.cleanup();
  sqlite = undefined;
});

async function setup(): Promise<{ store: DeliveryStore; endpointId: string; path: string }> {
  sqlite = migratedSqlite();
  const store = createSqliteDeliveryStore(sqlite.db);
  const endpoint = await store.createEndpoint({
    target: "https://receiver.example.com/hooks",
    eventTypes: ["shop.*"],
  });
  return { store, endpointId: endpoint.id, path: sqlite.path };
}

async function startWriter(path: string, routed = false, maxTransactionMessages?: number) {
  const writer = await writerModule.startSqliteWriter({
    path,
    ...(routed ? { routing: { tenant: "default", defaultRetry: { schedule_s: [1, 2] } } } : {}),
    ...(maxTransactionMessages === undefined ? {} : { maxTransactionMessages }),
  });
  writers.push(writer);
  return writer;
}

type Transaction = Parameters<Parameters<SqliteWriter["observeTransactions"]>[0]>[0];
type SqliteWriter = Awaited<ReturnType<WriterModule["startSqliteWriter"]>>;

/** The transactions the writer's thread ended, as it reports them. */
function transactionsOf(writer: SqliteWriter): Transaction[] {
  const seen: Transaction[] = [];
  writer.observeTransactions((t) => seen.push(t));
  return seen;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `first`, and once the thread is waiting for the write lock the test holds, the
 * batches of `queued` (they queue on the thread's port); then lets go of the lock.
 */
type Results = Awaited<ReturnType<SqliteWriter["createMessages"]>>;

async function whileLocked(
  writer: SqliteWriter,
  first: CreateMessageInput[],
  queued: CreateMessageInput[][],
): Promise<PromiseSettledResult<Results>[]> {
  sqlite!.db.exec("BEGIN IMMEDIATE");
  const sent = [writer.createMessages(first)];
  try {
    await sleep(100); // the thread took `first` and waits in BEGIN IMMEDIATE
    for (const batch of queued) sent.push(writer.createMessages(batch));
    await sleep(20); // posted
  } finally {
    sqlite!.db.exec("COMMIT");
  }
  return Promise.allSettled(sent);
}

/** The results of a batch that was written. */
function written(settled: PromiseSettledResult<Results> | undefined): Results {
  if (settled?.status !== "fulfilled") throw new Error(`not written: ${String(settled)}`);
  return settled.value;
}

const messageCount = () =>
  (sqlite!.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;

function input(
  key: string,
  endpointId: string | null,
  payload: unknown = { n: 1 },
  payloadText?: string,
) {
  return {
    message: { type: "shop.order.created", source: "shop", payload, payloadText },
    deliveries: endpointId === null ? [] : [{ endpointId, maxAttempts: 3 }],
    dedupe: { source: "shop", key, expiresAt: Date.now() + 60_000 },
  } as CreateMessageInput;
}

describe("SQLite writer thread", () => {
  it("is available in the build", () => {
    expect(writerModule.sqliteWriterAvailable()).toBe(true);
  });

  it("writes a batch durably and decides dedupe keys in its transaction", async () => {
    const { store, endpointId, path } = await setup();
    const writer = await startWriter(path);
    const [a, b, c] = await writer.createMessages([
      input("k1", endpointId),
      input("k2", endpointId),
      input("k1", endpointId),
    ]);
    expect(a?.created).toBe(true);
    expect(b?.created).toBe(true);
    expect(c?.created).toBe(false);
    expect(c?.message.id).toBe(a?.message.id);
    expect(a?.deliveries).toHaveLength(1);
    // A later batch sees the stored key and gets the stored message with its delivery.
    const [again] = await writer.createMessages([input("k2", endpointId)]);
    expect(again?.created).toBe(false);
    expect(again?.message.id).toBe(b?.message.id);
    expect(again?.deliveries.map((d) => d.id)).toEqual(b?.deliveries.map((d) => d.id));
    // Read back on the other connection.
    const stored = await store.getMessage(a!.message.id);
    expect(stored?.message.payload).toEqual({ n: 1 });
    expect(stored?.deliveries).toHaveLength(1);
  });

  it("stores the payload's JSON text as received, and reads it back as the same value", async () => {
    const { store, path } = await setup();
    const writer = await startWriter(path);
    const text = '{ "b": [1, 2.5, "x"], "a": {"nested": true}, "big": 12345678901234567890 }';
    const [result] = await writer.createMessages([input("text", null, JSON.parse(text), text)]);
    const row = sqlite!.db
      .prepare("SELECT payload FROM messages WHERE id = ?")
      .get(result!.message.id) as { payload: string };
    expect(row.payload).toBe(text);
    expect((await store.getMessage(result!.message.id))?.message.payload).toEqual(JSON.parse(text));
  });

  it("lets exactly one of two writers racing on the same keys create each message", async () => {
    const { endpointId, path } = await setup();
    const [one, two] = [await startWriter(path), await startWriter(path)];
    const keys = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const rounds = await Promise.all(
      keys.flatMap((key) => [
        one.createMessages([input(key, endpointId)]),
        two.createMessages([input(key, endpointId)]),
      ]),
    );
    for (let i = 0; i < keys.length; i++) {
      const [x] = rounds[2 * i]!;
      const [y] = rounds[2 * i + 1]!;
      expect([x?.created, y?.created].filter(Boolean)).toHaveLength(1);
      expect(x?.message.id).toBe(y?.message.id);
    }
    const count = sqlite!.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    expect(count.n).toBe(keys.length);
  });

  it("plans deliveries in its transaction from the enabled endpoints, seeing catalogue changes", async () => {
    const { store, endpointId, path } = await setup();
    const writer = await startWriter(path, true);
    const [first] = await writer.createMessages([input("r1", null)]);
    expect(first?.deliveries.map((d) => d.endpointId)).toEqual([endpointId]);
    expect(first?.deliveries[0]?.messageId).toBe(first?.message.id);
    // An endpoint added, and one disabled, on the other connection: the next batch sees both.
    const added = await store.createEndpoint({
      target: "https://other.example.com/hooks",
      eventTypes: ["shop.order.*"],
      retry: { schedule_s: [5] },
    });
    await store.setEndpointEnabled(endpointId, false);
    const [second, third] = await writer.createMessages([input("r2", null), input("r3", null)]);
    expect(second?.deliveries.map((d) => d.endpointId)).toEqual([added.id]);
    expect(second?.deliveries[0]?.maxAttempts).toBe(2);
    expect(third?.deliveries.map((d) => d.endpointId)).toEqual([added.id]);
    const stored = await store.getMessage(second!.message.id);
    expect(stored?.deliveries.map((d) => d.id)).toEqual(second?.deliveries.map((d) => d.id));
  });

  it("checkpoints the WAL and truncates it once it grew past the limit", async () => {
    const { path } = await setup();
    const writer = await writerModule.startSqliteWriter({
      path,
      checkpointIntervalMs: 20,
      walTruncateBytes: 1,
    });
    writers.push(writer);
    await writer.createMessages([input("wal-1", null), input("wal-2", null)]);
    const deadline = Date.now() + 5000;
    while (statSync(`${path}-wal`).size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(statSync(`${path}-wal`).size).toBe(0);
    const count = sqlite!.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    expect(count.n).toBe(2);
  });

  it("answers with the same errors as the store", async () => {
    const { path } = await setup();
    const writer = await startWriter(path);
    await expect(writer.createMessages([input("x", "ep_missing")])).rejects.toMatchObject({
      name: "HeraldError",
      code: "endpoint.not_found",
    });
    await expect(
      writer.createMessages([
        { message: { type: "not a type", payload: {} }, deliveries: [] } as CreateMessageInput,
      ]),
    ).rejects.toMatchObject({ name: "HeraldError", code: "message.invalid" });
    // Nothing of the failed batches was stored; the writer still works.
    const [ok] = await writer.createMessages([input("x", null)]);
    expect(ok?.created).toBe(true);
  });

  it("writes what was sent before closing, then refuses with store.unavailable", async () => {
    const { store, path } = await setup();
    const writer = await startWriter(path);
    const sent = writer.createMessages([input("before-close", null)]);
    const closed = writer.close();
    const [result] = await sent;
    await closed;
    expect(result?.created).toBe(true);
    expect(await store.getMessage(result!.message.id)).toBeDefined();
    await expect(writer.createMessages([input("after-close", null)])).rejects.toMatchObject({
      code: "store.unavailable",
    });
  });

  it("starts a new thread when the running one dies; its batch failed whole or was written whole", async () => {
    const { store, path } = await setup();
    const writer = await startWriter(path);
    const [before] = await writer.createMessages([input("before-crash", null)]);
    const inFlight = writer.createMessages([input("in-flight", null)]).then(
      (results) => ({ ok: true as const, results }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await writer.killThread();
    const outcome = await inFlight;
    const count = () =>
      (
        sqlite!.db
          .prepare("SELECT count(*) AS n FROM messages WHERE id != ?")
          .get(before!.message.id) as { n: number }
      ).n;
    if (outcome.ok) expect(count()).toBe(1);
    else {
      expect(outcome.error).toMatchObject({ code: "store.unavailable" });
      expect(count()).toBeLessThanOrEqual(1);
    }
    // The next batch runs on a new thread; resending the same key is deduplicated if it was
    // written after all.
    const [again] = await writer.createMessages([input("in-flight", null)]);
    const [after] = await writer.createMessages([input("after-crash", null)]);
    expect(after?.created).toBe(true);
    expect(await store.getMessage(after!.message.id)).toBeDefined();
    expect(await store.getMessage(again!.message.id)).toBeDefined();
    expect(count()).toBe(2);
  });

  it("writes the batches queued behind a busy transaction together, in one transaction", async () => {
    const { store, endpointId, path } = await setup();
    const writer = await startWriter(path);
    const seen = transactionsOf(writer);
    const settled = await whileLocked(
      writer,
      [input("first", endpointId)],
      [
        [input("q1", endpointId)],
        [input("q2", endpointId), input("q3", null)],
        [input("q4", null)],
      ],
    );
    expect(settled.map((s) => s.status)).toEqual(Array(4).fill("fulfilled"));
    // The first alone (taken before the others were sent; with it if the thread was slow to
    // take it), the three queued ones in one.
    expect(seen.length).toBeLessThanOrEqual(2);
    expect(seen.every((t) => !t.failed)).toBe(true);
    expect(seen.reduce((n, t) => n + t.batches, 0)).toBe(4);
    expect(seen.at(-1)?.batches).toBeGreaterThanOrEqual(3);
    expect(messageCount()).toBe(5);
    for (const s of settled) {
      for (const r of written(s)) {
        expect(r.created).toBe(true);
        expect((await store.getMessage(r.message.id))?.deliveries).toHaveLength(
          r.deliveries.length,
        );
      }
    }
  });

  it("decides dedupe keys across the batches of one transaction in order", async () => {
    const { endpointId, path } = await setup();
    const writer = await startWriter(path);
    const seen = transactionsOf(writer);
    const settled = await whileLocked(
      writer,
      [input("other", endpointId)],
      [[input("same", endpointId)], [input("same", endpointId)], [input("same", endpointId)]],
    );
    const [, one, two, three] = settled.map((s) => written(s)[0]);
    expect(seen.at(-1)?.failed).toBe(false);
    expect(seen.at(-1)?.batches).toBeGreaterThanOrEqual(3);
    expect(one?.created).toBe(true);
    for (const dup of [two, three]) {
      expect(dup?.created).toBe(false);
      expect(dup?.message.id).toBe(one?.message.id);
      expect(dup?.deliveries.map((d) => d.id)).toEqual(one?.deliveries.map((d) => d.id));
    }
    expect(messageCount()).toBe(2);
  });

  it("fails a refused batch of a merged transaction alone; the others commit", async () => {
    const { path } = await setup();
    const writer = await startWriter(path);
    const seen = transactionsOf(writer);
    const settled = await whileLocked(
      writer,
      [input("a", null)],
      [[input("b", null)], [input("c", "ep_missing")], [input("d", null)]],
    );
    expect(settled.map((s) => s.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({
      name: "HeraldError",
      code: "endpoint.not_found",
    });
    // c failed alone (reported on its own); b and d (and a, if taken with them) in one commit.
    expect(seen.filter((t) => t.failed).map((t) => t.batches)).toEqual([1]);
    expect(seen.at(-1)).toMatchObject({ failed: false });
    expect(seen.at(-1)?.batches).toBeGreaterThanOrEqual(2);
    expect(seen.filter((t) => !t.failed).reduce((n, t) => n + t.batches, 0)).toBe(3);
    expect(messageCount()).toBe(3);
  });

  it("writes each batch alone again when the merged transaction fails half-way", async () => {
    const { path } = await setup();
    const writer = await startWriter(path);
    const seen = transactionsOf(writer);
    // The INSERT of one message fails after the batches before it were written.
    sqlite!.db.exec(`CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.type = 'shop.boom'
      BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    const bad = {
      message: { type: "shop.boom", source: "shop", payload: {} },
      deliveries: [],
    } as CreateMessageInput;
    const settled = await whileLocked(
      writer,
      [input("a", null)],
      [[input("b", null)], [input("c", null), bad], [input("d", null)]],
    );
    expect(settled.map((s) => s.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/boom/);
    // The merged try rolled back, then b, c and d each in a transaction of its own.
    const merged = seen.findIndex((t) => t.failed && t.batches >= 3);
    expect(merged).toBeGreaterThanOrEqual(0);
    expect(seen.slice(-3).map((t) => [t.batches, t.failed])).toEqual([
      [1, false],
      [1, true],
      [1, false],
    ]);
    // b and d once each (nothing of the rolled-back try stayed), nothing of the bad batch.
    const keys = sqlite!.db.prepare("SELECT key FROM inbound_keys ORDER BY key").pluck().all();
    expect(keys).toEqual(["a", "b", "d"]);
    expect(messageCount()).toBe(3);
  });

  it("takes no more than maxTransactionMessages into one transaction", async () => {
    const { path } = await setup();
    const writer = await startWriter(path, false, 3);
    const seen = transactionsOf(writer);
    const settled = await whileLocked(
      writer,
      [input("a", null)],
      [
        [input("b1", null), input("b2", null)],
        [input("c1", null), input("c2", null)],
        [input("d", null)],
      ],
    );
    expect(settled.every((s) => s.status === "fulfilled")).toBe(true);
    // a; b (c would make 4); c and d — or a and b, then c and d.
    expect(Math.max(...seen.map((t) => t.messages))).toBe(3);
    expect(seen.reduce((n, t) => n + t.messages, 0)).toBe(6);
    expect(seen.at(-1)).toMatchObject({ batches: 2, messages: 3 });
  });

  it("fails the batches queued on a thread that dies with store.unavailable; the next works", async () => {
    const { path } = await setup();
    const writer = await startWriter(path);
    const keys = ["k-a", "k-b", "k-c"];
    sqlite!.db.exec("BEGIN IMMEDIATE");
    const sent = [writer.createMessages([input("k-a", null)])];
    let killed: Promise<void>;
    try {
      await sleep(50); // the thread took the first batch and waits for the lock
      sent.push(writer.createMessages([input("k-b", null)]));
      sent.push(writer.createMessages([input("k-c", null)]));
      await sleep(20);
      // The thread ends once it is back in JavaScript (it cannot while waiting for the lock).
      killed = writer.killThread();
    } finally {
      sqlite!.db.exec("COMMIT");
    }
    await killed;
    const settled = await Promise.allSettled(sent);
    for (const s of settled) {
      if (s.status === "rejected") expect(s.reason).toMatchObject({ code: "store.unavailable" });
    }
    // The queued ones never reached the thread's transaction.
    expect(settled.slice(1).map((s) => s.status)).toEqual(["rejected", "rejected"]);
    const written = settled.filter((s) => s.status === "fulfilled").length;
    expect(messageCount()).toBe(written);
    // Sent again on a new thread: each stored once.
    const again = await writer.createMessages(keys.map((k) => input(k, null)));
    expect(again.filter((r) => r.created)).toHaveLength(keys.length - written);
    expect(messageCount()).toBe(keys.length);
  });

  it("fails to start with store.unavailable when the file cannot be opened", async () => {
    await expect(
      writerModule.startSqliteWriter({ path: "/nonexistent-dir/herald.db" }),
    ).rejects.toMatchObject({ code: "store.unavailable" });
  });
});
