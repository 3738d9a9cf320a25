// The shared group commit (src/core/batcher.ts): batch sizes, the cap on batches written at
// once, items with one key in separate batches, giving up, failure isolation, drain, the
// metrics hook and the two ways a batch starts.
import { describe, expect, it } from "vitest";
import {
  type BatcherOptions,
  createBatcher,
  type Settled,
} from "../../packages/core/src/core/batcher.js";

const ok = <R>(value: R): Settled<R> => ({ ok: true, value });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A writer that records its batches and answers each item as itself. */
function echoWriter<T>() {
  const batches: T[][] = [];
  const write = (items: readonly T[]) => {
    batches.push([...items]);
    return items.map(ok);
  };
  return { batches, write };
}

/** A writer that records its batches and answers each item doubled, once released. */
function gatedWriter() {
  const batches: number[][] = [];
  let open!: () => void;
  const released = new Promise<void>((resolve) => {
    open = resolve;
  });
  let running = 0;
  let mostRunning = 0;
  const write: BatcherOptions<number, number>["write"] = async (items) => {
    batches.push([...items]);
    running += 1;
    mostRunning = Math.max(mostRunning, running);
    await released;
    await turn();
    running -= 1;
    return items.map((n) => ok(n * 2));
  };
  return { write, batches, mostRunning: () => mostRunning, releaseAll: open };
}

describe("batcher", () => {
  it("writes a lone item at once, in a batch of its own", async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>({
      write: (items) => {
        batches.push([...items]);
        return items.map((n) => ok(n + 1));
      },
    });
    expect(await batcher.submit(1)).toBe(2);
    expect(batches).toEqual([[1]]);
  });

  it("gathers the items of one turn, and those that wait for a write, up to maxBatch", async () => {
    const writer = gatedWriter();
    const batcher = createBatcher<number, number>({ write: writer.write, maxBatch: 3 });
    const first = [1, 2].map((n) => batcher.submit(n));
    await turn();
    // Written now: [1, 2]. These wait for it, then go in batches of at most 3, in order.
    const rest = [3, 4, 5, 6, 7].map((n) => batcher.submit(n));
    expect(batcher.pending).toBe(6);
    await writer.releaseAll();
    expect(await Promise.all([...first, ...rest])).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(writer.batches).toEqual([
      [1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    expect(writer.mostRunning()).toBe(1);
  });

  it("writes at most maxConcurrent batches at once", async () => {
    const writer = gatedWriter();
    const batcher = createBatcher<number, number>({
      write: writer.write,
      maxBatch: 2,
      maxConcurrent: 2,
    });
    const all = Array.from({ length: 10 }, (_, n) => batcher.submit(n));
    await turn();
    expect(writer.batches).toEqual([
      [0, 1],
      [2, 3],
    ]);
    await writer.releaseAll();
    await Promise.all(all);
    expect(writer.batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(writer.mostRunning()).toBe(2);
  });

  it("with overlapFrom, starts a batch beside one in flight only once that many items wait", async () => {
    const writer = gatedWriter();
    const batcher = createBatcher<number, number>({
      write: writer.write,
      maxBatch: 4,
      maxConcurrent: 4,
      overlapFrom: 4,
    });
    const first = batcher.submit(0);
    await turn();
    expect(writer.batches).toEqual([[0]]);
    // Three wait while [0] is written: too few to overlap it, so none starts, in any turn.
    const few = [1, 2, 3].map((n) => batcher.submit(n));
    await turn();
    await turn();
    expect(writer.batches).toEqual([[0]]);
    // A fourth makes a full batch: it goes beside [0]; then four more make a third.
    const more = [4, 5, 6, 7, 8].map((n) => batcher.submit(n));
    await turn();
    expect(writer.batches).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
    // One more waits for a batch to finish: a fourth may run, but one item does not overlap.
    const last = batcher.submit(9);
    await turn();
    expect(writer.batches).toHaveLength(3);
    await writer.releaseAll();
    expect(await Promise.all([first, ...few, ...more, last])).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => n * 2),
    );
    expect(writer.batches.at(-1)).toEqual([9]);
    expect(writer.mostRunning()).toBe(3);
  });

  it("keeps items with one key apart: the later waits for the next batch", async () => {
    const { batches, write } = echoWriter<string>();
    const batcher = createBatcher<string, string>({
      write,
      key: (item) => item.split(":")[0]!,
      maxConcurrent: Number.POSITIVE_INFINITY,
    });
    await Promise.all(["a:1", "b:1", "a:2", "c:1", "a:3"].map((i) => batcher.submit(i)));
    expect(batches).toEqual([["a:1", "b:1", "c:1"], ["a:2"], ["a:3"]]);
  });

  it("answers each item with its own outcome: a failed one fails alone", async () => {
    const batcher = createBatcher<number, number>({
      write: (items) =>
        items.map((n) => (n === 2 ? { ok: false, error: new Error(`bad ${n}`) } : ok(n))),
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("a batch that throws fails only its items; with retryAlone each is written again alone", async () => {
    const batches: number[][] = [];
    const write = (items: readonly number[]) => {
      batches.push([...items]);
      if (items.includes(2)) throw new Error("bad batch");
      return items.map(ok);
    };
    const plain = createBatcher<number, number>({ write });
    const failed = await Promise.allSettled([1, 2, 3].map((n) => plain.submit(n)));
    expect(failed.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"]);
    // The next batch is not touched by the failure.
    expect(await plain.submit(4)).toBe(4);

    batches.length = 0;
    const sizes: Array<[number, boolean]> = [];
    const isolating = createBatcher<number, number>({
      write,
      retryAlone: (error) => (error as Error).message === "bad batch",
      onBatch: (size, durationMs, failedBatch) => {
        expect(durationMs).toBeGreaterThanOrEqual(0);
        sizes.push([size, failedBatch]);
      },
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => isolating.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(sizes).toEqual([
      [1, false],
      [1, true],
      [1, false],
      [3, true],
    ]);
  });

  it("gives up on a queued item (never written) and answers one being written in time", async () => {
    const writer = gatedWriter();
    const batcher = createBatcher<number, number>({
      write: writer.write,
      giveUp: { afterMs: 20, error: () => new Error("gave up") },
    });
    const written = batcher.submit(1);
    await turn();
    const queued = batcher.submit(2);
    await expect(written).rejects.toThrow("gave up");
    await expect(queued).rejects.toThrow("gave up");
    await writer.releaseAll();
    await batcher.drain();
    // The item being written was still written; the queued one never was.
    expect(writer.batches).toEqual([[1]]);
  });

  it("drain waits for every submitted item", async () => {
    const writer = gatedWriter();
    const batcher = createBatcher<number, number>({ write: writer.write });
    await batcher.drain();
    const settled: number[] = [];
    for (const n of [1, 2, 3]) void batcher.submit(n).then((r) => settled.push(r));
    let drained = false;
    const draining = batcher.drain().then(() => {
      drained = true;
    });
    await turn();
    expect(drained).toBe(false);
    await writer.releaseAll();
    await draining;
    expect(settled).toEqual([2, 4, 6]);
    expect(batcher.pending).toBe(0);
  });

  it("waits maxWaitMs for company before writing a batch that is not full", async () => {
    const { batches, write } = echoWriter<number>();
    const batcher = createBatcher<number, number>({
      write,
      maxWaitMs: 30,
    });
    const first = batcher.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([first, batcher.submit(2)]);
    expect(batches).toEqual([[1, 2]]);
  });

  it("eager: a lone item after a quiet turn is written before the turn ends", async () => {
    const { batches, write } = echoWriter<number>();
    const batcher = createBatcher<number, number>({
      write,
      start: "eager",
      maxConcurrent: Number.POSITIVE_INFINITY,
    });
    const lone = batcher.submit(1);
    await Promise.resolve();
    expect(batches).toEqual([[1]]);
    await lone;
    // Later in the same turn: they wait for the turn's end, together.
    const later = [2, 3].map((n) => batcher.submit(n));
    await Promise.resolve();
    expect(batches).toEqual([[1]]);
    await Promise.all(later);
    expect(batches).toEqual([[1], [2, 3]]);
    // The last batch held several (a burst): the next item waits for the turn's end too.
    await turn();
    const next = batcher.submit(4);
    await Promise.resolve();
    expect(batches).toHaveLength(2);
    await next;
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });
});
