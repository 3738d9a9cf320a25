// The SQLite writer thread (src/store/sqlite/writerThread.ts) as `herald serve` runs it: from
// the build (the thread's script is compiled JavaScript: `npm run build` first). Batches are
// written by the thread's own connection and read back on another one; dedupe is decided in the
// thread's transaction, also between two writers racing on the same key; errors come back as
// the same codes; closing writes what was sent first.
import { existsSync, statSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CreateMessageInput, DeliveryStore } from "../../src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../src/store/sqlite/deliveryStore.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const built = new URL("../../dist/store/sqlite/writerThread.js", import.meta.url);
const builtRecords = new URL("../../dist/store/delivery/messageRecords.js", import.meta.url);

type WriterModule = typeof import("../../src/store/sqlite/writerThread.js");
type RecordsModule = typeof import("../../src/store/delivery/messageRecords.js");
let writerModule: WriterModule;
let records: RecordsModule;

beforeAll(async () => {
  if (!existsSync(built))
    throw new Error("Build first (npm run build): dist/ has no writer thread");
  writerModule = (await import(built.href)) as WriterModule;
  records = (await import(builtRecords.href)) as RecordsModule;
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

async function startWriter(path: string, routed = false) {
  const writer = await writerModule.startSqliteWriter({
    path,
    ...(routed ? { routing: { tenant: "default", defaultRetry: { schedule_s: [1, 2] } } } : {}),
  });
  writers.push(writer);
  return writer;
}

function input(key: string, endpointId: string | null, payload: unknown = { n: 1 }) {
  return {
    message: { type: "shop.order.created", source: "shop", payload },
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
    const payload = records.jsonPayload(text);
    const [result] = await writer.createMessages([input("text", null, payload)]);
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

  it("fails to start with store.unavailable when the file cannot be opened", async () => {
    await expect(
      writerModule.startSqliteWriter({ path: "/nonexistent-dir/herald.db" }),
    ).rejects.toMatchObject({ code: "store.unavailable" });
  });
});
