// The source cache reads a source once however many webhooks ask for it at once, and renews an
// expired entry with one background read while still answering it for one more `ttlMs`: no
// webhook waits for that read, and none starts a read of its own.
import { describe, expect, it } from "vitest";
import type { SourceRecord } from "../../packages/core/src/store/deliveryPorts.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { sourceRecord } from "./sourceRecord.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROTATED = "whsec_dGhlIHNlY29uZCBzZWNyZXQgb2YgdGhpcyB0ZXN0";

const source = (secret: string) => sourceRecord({ scheme: "standard", secrets: [secret] });

/** A store whose reads wait until the test answers them, one by one. */
function heldStore() {
  const waiting: {
    resolve: (record: SourceRecord | undefined) => void;
    reject: (e: Error) => void;
  }[] = [];
  let reads = 0;
  return {
    store: {
      getSource: (_name: string) =>
        new Promise<SourceRecord | undefined>((resolve, reject) => {
          reads++;
          waiting.push({ resolve, reject });
        }),
    },
    reads: () => reads,
    /** Answers the oldest read waiting, or the newest. */
    answer(record: SourceRecord | undefined, which: "oldest" | "newest" = "oldest") {
      (which === "oldest" ? waiting.shift() : waiting.pop())?.resolve(record);
    },
    fail(error: Error) {
      waiting.shift()?.reject(error);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A cache (ttlMs 1000) that read the source holding SECRET at time 0; `setNow` moves its clock. */
async function loadedCache() {
  const held = heldStore();
  let now = 0;
  const cache = createSourceCache(held.store, { ttlMs: 1000, now: () => now });
  const first = cache.get("src");
  held.answer(source(SECRET));
  await first;
  return { held, cache, setNow: (ms: number) => (now = ms) };
}

describe("source cache", () => {
  it("reads once for many webhooks arriving together", async () => {
    const held = heldStore();
    const cache = createSourceCache(held.store, { ttlMs: 1000, now: () => 0 });
    const gets = Array.from({ length: 50 }, () => cache.get("src"));
    await tick();
    expect(held.reads()).toBe(1);
    held.answer(source(SECRET));
    const answers = await Promise.all(gets);
    expect(answers.every((a) => a?.record.secrets[0] === SECRET)).toBe(true);
  });

  it("answers an expired entry at once while one read renews it", async () => {
    const { held, cache, setNow } = await loadedCache();

    setNow(1500);
    // The read is held: these would hang if they waited for it.
    const stale = await Promise.all(Array.from({ length: 20 }, () => cache.get("src")));
    expect(stale.every((a) => a?.record.secrets[0] === SECRET)).toBe(true);
    expect(held.reads()).toBe(2);

    held.answer(source(ROTATED));
    await tick();
    expect((await cache.get("src"))?.record.secrets[0]).toBe(ROTATED);
    expect(held.reads()).toBe(2);
  });

  it("waits for the read once an entry is older than twice ttlMs, and reports its failure", async () => {
    const { held, cache, setNow } = await loadedCache();

    setNow(1500);
    await cache.get("src");
    // The background read fails: the entry stays as it was, and the next caller reads again.
    held.fail(new Error("store down"));
    await tick();
    expect((await cache.get("src"))?.record.secrets[0]).toBe(SECRET);
    expect(held.reads()).toBe(3);
    held.fail(new Error("store down"));
    await tick();

    setNow(2001);
    const late = cache.get("src");
    await tick();
    expect(held.reads()).toBe(4);
    held.fail(new Error("store down"));
    await expect(late).rejects.toThrow("store down");
  });

  it("does not keep a read that started before invalidate", async () => {
    const held = heldStore();
    const cache = createSourceCache(held.store, { ttlMs: 1000, now: () => 0 });
    const before = cache.get("src");
    await tick();
    cache.invalidate("src");
    const after = cache.get("src");
    await tick();
    expect(held.reads()).toBe(2);
    // The read from before the change answers last: it answers its caller, but is not what the
    // cache keeps.
    held.answer(source(ROTATED), "newest");
    expect((await after)?.record.secrets[0]).toBe(ROTATED);
    held.answer(source(SECRET));
    expect((await before)?.record.secrets[0]).toBe(SECRET);
    expect((await cache.get("src"))?.record.secrets[0]).toBe(ROTATED);
    expect(held.reads()).toBe(2);
  });

  it("answers source.misconfigured from a stale entry too, and tells why once per read", async () => {
    const held = heldStore();
    let now = 0;
    const why: string[] = [];
    const cache = createSourceCache(held.store, {
      ttlMs: 1000,
      now: () => now,
      onUnusable: (_name, reason) => why.push(reason),
    });
    const first = cache.get("src");
    held.answer({ ...source(SECRET), secrets: [] });
    await expect(first).rejects.toMatchObject({ code: "source.misconfigured" });
    now = 1500;
    await expect(cache.get("src")).rejects.toMatchObject({ code: "source.misconfigured" });
    expect(why).toEqual(["it has no secret"]);
  });
});
