import { describe, expect, it } from "vitest";
import type {
  CreateMessageInput,
  DeliveryStore,
} from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createGroupCommitter } from "../../packages/server/src/server/ingest/groupCommit.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";

function message(n: number, key?: string): CreateMessageInput {
  return {
    message: { type: "test.created", payload: { n } },
    deliveries: [],
    ...(key === undefined ? {} : { dedupe: { source: "s", key, expiresAt: Date.now() + 60_000 } }),
  };
}

/** The memory store, counting the transactions (createMessages calls) and their sizes. */
function countingStore() {
  const store = createMemoryDeliveryStore();
  const batches: number[] = [];
  const counted: Pick<DeliveryStore, "createMessages"> = {
    createMessages: (inputs) => {
      batches.push(inputs.length);
      return store.createMessages(inputs);
    },
  };
  return { store, counted, batches };
}

describe("group commit", () => {
  it("writes a lone message at once, in its own transaction", async () => {
    const { counted, batches } = countingStore();
    const committer = createGroupCommitter({ store: counted });
    const result = await committer.submit(message(1));
    expect(result.created).toBe(true);
    expect(batches).toEqual([1]);
  });

  it("gathers messages that arrive while a transaction is written into the next one", async () => {
    const { counted, batches, store } = countingStore();
    const committer = createGroupCommitter({ store: counted, maxBatch: 64 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => committer.submit(message(i))),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(new Set(results.map((r) => r.message.id)).size).toBe(200);
    // 200 messages in far fewer transactions, none above the cap.
    expect(batches.reduce((a, b) => a + b, 0)).toBe(200);
    expect(batches.length).toBeLessThanOrEqual(5);
    expect(Math.max(...batches)).toBeLessThanOrEqual(64);
    for (const r of results) expect(await store.getMessage(r.message.id)).toBeDefined();
  });

  it("answers identical concurrent messages with one created and the rest duplicates of it", async () => {
    const { counted } = countingStore();
    const committer = createGroupCommitter({ store: counted });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => committer.submit(message(1, "k"))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
  });

  it("isolates a bad input: the others of its batch are still stored", async () => {
    const { counted } = countingStore();
    const committer = createGroupCommitter({ store: counted });
    const bad: CreateMessageInput = {
      message: { type: "test.created", payload: { n: 0 } },
      deliveries: [{ endpointId: "ep_missing", maxAttempts: 1 }],
    };
    const settled = await Promise.allSettled([
      committer.submit(message(1)),
      committer.submit(bad),
      committer.submit(message(2)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("fails the whole batch at once when the store is unavailable, and recovers after", async () => {
    const { store } = countingStore();
    let down = true;
    const flaky: Pick<DeliveryStore, "createMessages"> = {
      createMessages: (inputs) =>
        down
          ? Promise.reject(new HeraldError("store.unavailable", "down"))
          : store.createMessages(inputs),
    };
    const committer = createGroupCommitter({ store: flaky });
    const failed = await Promise.allSettled([
      committer.submit(message(1)),
      committer.submit(message(2)),
    ]);
    for (const f of failed) {
      expect(f.status).toBe("rejected");
      expect((f as PromiseRejectedResult).reason).toMatchObject({ code: "store.unavailable" });
    }
    down = false;
    expect((await committer.submit(message(3))).created).toBe(true);
  });

  it("prepares the batch again when an endpoint vanished in between", async () => {
    const { store } = countingStore();
    const endpoint = await store.createEndpoint({
      target: "https://example.com/h",
      eventTypes: ["*"],
    });
    let prepared = 0;
    const committer = createGroupCommitter({
      store,
      prepare: async (inputs) => {
        prepared += 1;
        const exists = (await store.getEndpoint(endpoint.id)) !== undefined;
        if (prepared === 1) await store.deleteEndpoint(endpoint.id); // deleted after the read
        return {
          inputs: inputs.map((input) => ({
            ...input,
            deliveries: exists ? [{ endpointId: endpoint.id, maxAttempts: 1 }] : [],
          })),
        };
      },
    });
    const result = await committer.submit(message(1));
    expect(result.created).toBe(true);
    expect(result.deliveries).toHaveLength(0);
    expect(prepared).toBe(2);
  });

  it("with maxConcurrent > 1, sends each turn's messages while earlier batches are still written", async () => {
    const { store } = countingStore();
    const started: number[] = [];
    const release: Array<() => void> = [];
    const slow: Pick<DeliveryStore, "createMessages"> = {
      createMessages: async (inputs) => {
        started.push(inputs.length);
        await new Promise<void>((resolve) => release.push(resolve));
        return store.createMessages(inputs);
      },
    };
    const committer = createGroupCommitter({ store: slow, maxConcurrent: 2 });
    const first = [committer.submit(message(1)), committer.submit(message(2))];
    await new Promise((resolve) => setImmediate(resolve));
    const second = [committer.submit(message(3))];
    await new Promise((resolve) => setImmediate(resolve));
    // Both batches are being written; a third turn waits for a free slot.
    expect(started).toEqual([2, 1]);
    const third = [committer.submit(message(4)), committer.submit(message(5))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([2, 1]);
    expect(committer.pending).toBe(4);
    release.shift()?.();
    await Promise.all(first);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([2, 1, 2]);
    for (const done of release.splice(0)) done();
    const results = await Promise.all([...second, ...third]);
    expect(results.every((r) => r.created)).toBe(true);
    await committer.drain();
  });

  it("gives up on waiting after giveUpAfterMs: a queued message is never written, one in flight may be", async () => {
    const { store } = countingStore();
    const release: Array<() => void> = [];
    const written: number[] = [];
    const gated: Pick<DeliveryStore, "createMessages"> = {
      async createMessages(inputs) {
        await new Promise<void>((resolve) => release.push(resolve));
        written.push(...inputs.map((i) => (i.message.payload as { n: number }).n));
        return store.createMessages(inputs);
      },
    };
    const committer = createGroupCommitter({ store: gated, giveUpAfterMs: 100 });
    const started = performance.now();
    const inFlight = committer.submit(message(1, "k1"));
    while (release.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const queued = committer.submit(message(2, "k2"));
    for (const gaveUp of [inFlight, queued]) {
      await expect(gaveUp).rejects.toMatchObject({
        code: "store.unavailable",
        message: expect.stringContaining("100 ms"),
      });
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(committer.pending).toBe(1);
    release.shift()?.();
    await committer.drain();
    // The batch in flight committed after its submitter gave up (its dedupe key with it); the
    // queued message was dropped, never written.
    expect(written).toEqual([1]);
    expect(release).toEqual([]);
    const retry = committer.submit(message(1, "k1"));
    while (release.length === 0) await new Promise((resolve) => setImmediate(resolve));
    release.shift()?.();
    expect((await retry).created, "the retry is a duplicate of the late commit").toBe(false);
  });

  it("drain waits for every submitted message", async () => {
    const { counted } = countingStore();
    const committer = createGroupCommitter({ store: counted, maxWaitMs: 5 });
    const pending = [committer.submit(message(1)), committer.submit(message(2))];
    expect(committer.pending).toBe(2);
    await committer.drain();
    expect(committer.pending).toBe(0);
    await Promise.all(pending);
  });
});
