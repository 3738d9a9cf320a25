// Part of the EventStore contract: readAll and readOutbox, in commit order, paged by checkpoint.
// A backend without a global order (DynamoDB: capability readAll false) must refuse readAll with
// store.unsupported; the commit-order and paging checks then run on readOutbox, with publish.
//
// PostgreSQL shows an event only once every older transaction on the whole server has ended
// (that is what keeps late commits from being skipped), so on a server shared with other test
// files an event can become readable a moment after its append returned. These tests
// therefore read until what they expect has arrived (or a deadline passes), and find the end
// of the log with a marker event rather than by reading until empty.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../packages/core/src/store/ports.js";
import { event, rejection, type Store, uniqueStream } from "./eventStore.js";

type Read = "readAll" | "readOutbox";
const DEADLINE_MS = 15_000;

/**
 * A checkpoint past every event committed so far: appends (or publishes) a marker and reads
 * until it arrives; everything committed earlier sorts before it.
 */
async function tail(store: Store, read: Read = "readAll"): Promise<string> {
  const marker = event({ type: "test.marker.v1" });
  if (read === "readOutbox") await store.publish(uniqueStream("marker"), 0, [marker]);
  else await store.append(uniqueStream("marker"), [marker]);
  const deadline = Date.now() + DEADLINE_MS;
  let checkpoint: string | undefined;
  for (;;) {
    const page = await store[read]({ after: checkpoint, limit: 1000 });
    const found = page.events.find((e) => e.envelope.id === marker.id);
    if (found !== undefined) return found.checkpoint;
    if (page.events.length === 0) {
      if (Date.now() > deadline) throw new Error("the marker event never became readable");
      await sleep(20);
    }
    checkpoint = page.checkpoint;
  }
}

/**
 * Pages on from `after` until `count` events arrived, checking each page's shape, then
 * checks that nothing else follows.
 */
async function readPages(
  store: Store,
  after: string | undefined,
  limit: number,
  count: number,
  read: Read = "readAll",
): Promise<{ pages: StoredEvent[][]; checkpoint: string | undefined }> {
  const pages: StoredEvent[][] = [];
  const deadline = Date.now() + DEADLINE_MS;
  let checkpoint = after;
  for (;;) {
    const page = await store[read]({ after: checkpoint, limit });
    if (page.events.length === 0) {
      expect(page.checkpoint).toBe(checkpoint);
      if (pages.flat().length >= count || Date.now() > deadline) return { pages, checkpoint };
      await sleep(20);
      continue;
    }
    expect(page.events.length).toBeLessThanOrEqual(limit);
    expect(page.checkpoint).toBe(page.events.at(-1)!.checkpoint);
    pages.push(page.events);
    checkpoint = page.checkpoint;
  }
}

/**
 * Writes four batches to two streams (append for readAll, publish for readOutbox) and reads
 * them back page by page from the log's end: commit order, distinct checkpoints, the events
 * load returns, and only later events when reading on from the end.
 */
async function readsInCommitOrder(store: Store, readWith: Read): Promise<void> {
  const write = (stream: string, batch: ReturnType<typeof event>[]) =>
    readWith === "readAll" ? store.append(stream, batch) : store.publish(stream, "any", batch);
  const start = await tail(store, readWith);
  const a = uniqueStream("order");
  const b = uniqueStream("invoice");
  const appended: string[] = [];
  for (const [stream, size] of [
    [a, 2],
    [b, 1],
    [a, 1],
    [b, 3],
  ] as const) {
    const batch = Array.from({ length: size }, () => event());
    await write(stream, batch);
    appended.push(...batch.map((e) => e.id!));
  }
  const { pages, checkpoint } = await readPages(store, start, 2, appended.length, readWith);
  expect(pages.length).toBeGreaterThanOrEqual(4);
  const read = pages.flat();
  expect(read.map((e) => e.envelope.id)).toEqual(appended);
  expect(read.filter((e) => e.stream === a).map((e) => e.version)).toEqual([1, 2, 3]);
  expect(read.filter((e) => e.stream === b).map((e) => e.version)).toEqual([1, 2, 3, 4]);
  expect(new Set(read.map((e) => e.checkpoint)).size).toBe(read.length);
  // The events read are the ones load returns.
  expect(read.filter((e) => e.stream === a)).toEqual(await store.load(a));

  // Reading on from the end finds what is appended later, and only that.
  const later = event();
  await write(a, [later]);
  const next = await readPages(store, checkpoint, 10, 1, readWith);
  expect(next.pages.flat().map((e) => e.envelope.id)).toEqual([later.id]);
}

/** The first event of the log, read without a checkpoint. */
async function readsFromTheStart(store: Store, readWith: Read): Promise<void> {
  if (readWith === "readAll") await store.append(uniqueStream(), [event()]);
  else await store.publish(uniqueStream(), 0, [event()]);
  const deadline = Date.now() + DEADLINE_MS;
  let first = await store[readWith]({ limit: 1 });
  while (first.events.length === 0 && Date.now() < deadline) {
    await sleep(20);
    first = await store[readWith]({ limit: 1 });
  }
  expect(first.events).toHaveLength(1);
  expect(first.checkpoint).toBe(first.events[0]!.checkpoint);
}

export function testEventStoreReads(current: () => Store, hasReadAll = true): void {
  // Where the log of every event is read: readAll, or readOutbox where there is no readAll.
  const log: Read = hasReadAll ? "readAll" : "readOutbox";

  describe("readAll and readOutbox", () => {
    if (hasReadAll) {
      it("reads every stream's events in commit order, page by page", async () => {
        await readsInCommitOrder(current(), "readAll");
      });

      it("reads from the start without a checkpoint", async () => {
        await readsFromTheStart(current(), "readAll");
      });
    } else {
      it("refuses readAll (store.unsupported); readOutbox reads in commit order, page by page", async () => {
        const store = current();
        expect((await rejection(store.readAll())).code).toBe("store.unsupported");
        expect((await rejection(store.readAll({ after: "1", limit: 1 }))).code).toBe(
          "store.unsupported",
        );
        await readsInCommitOrder(store, "readOutbox");
        await readsFromTheStart(store, "readOutbox");
      });
    }

    it("readOutbox holds only published events, in commit order", async () => {
      const store = current();
      const outboxStart = await tail(store, "readOutbox");
      const allStart = hasReadAll ? await tail(store) : undefined;
      const stream = uniqueStream();
      const other = uniqueStream("invoice");
      const published1 = [event(), event()];
      const published2 = [event()];
      await store.append(stream, [event()]);
      await store.publish(stream, 1, published1);
      await store.append(other, [event()]);
      await store.publish(other, "any", published2);
      await store.append(stream, [event()]);

      const { pages } = await readPages(store, outboxStart, 2, 3, "readOutbox");
      expect(pages.flat().map((e) => e.envelope.id)).toEqual(
        [...published1, ...published2].map((e) => e.id),
      );
      expect(pages.flat().map((e) => e.version)).toEqual([2, 3, 2]);
      if (hasReadAll) {
        const all = await readPages(store, allStart, 100, 6);
        expect(all.pages.flat()).toHaveLength(6);
      } else {
        // Every event is stored all the same: the appended ones are in their streams.
        expect((await store.load(stream)).length + (await store.load(other)).length).toBe(6);
      }
    });

    it("publish stores the events like append, so load and readAll see them", async () => {
      const store = current();
      const stream = uniqueStream();
      const start = await tail(store, log);
      const result = await store.publish(stream, 0, [event(), event()]);
      expect(result).toMatchObject({ fromVersion: 1, toVersion: 2, idempotent: false });
      expect(await store.load(stream)).toEqual(result.events);
      const { pages } = await readPages(store, start, 10, 2, log);
      expect(pages.flat()).toEqual(result.events);
    });

    it("returns the given checkpoint when nothing follows it, and refuses foreign ones", async () => {
      const store = current();
      const end = await tail(store, log);
      expect(await store[log]({ after: end })).toEqual({ events: [], checkpoint: end });
      for (const bad of ["abc", "-1", "1.5", ""]) {
        expect((await rejection(store[log]({ after: bad }))).code).toBe("checkpoint.invalid");
      }
      await expect(store[log]({ limit: 0 })).rejects.toMatchObject({
        code: "store.invalid_argument",
      });
    });
  });
}
