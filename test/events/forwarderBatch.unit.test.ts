// The forwarder's batch mode: with a publisher that has publishBatch, each run sends the read
// batch in one call and checkpoints after it; a failed call saves nothing and the next run
// sends the same batch again. The publisher is an in-memory double of the port (the forwarder
// is the unit under test); the event store is the real in-memory one.
import { afterEach, describe, expect, it } from "vitest";
import { messageToEnvelope } from "../../packages/core/src/bus/envelopeCodec.js";
import type { BusMessage, BusPublisher, PublishAck } from "../../packages/core/src/bus/port.js";
import { createForwarder, type Forwarder } from "../../packages/core/src/events/forwarder.js";
import { createMemoryEventStore } from "../../packages/core/src/store/memory/eventStore.js";
import type {
  CheckpointStore,
  EventStore,
  EventToAppend,
} from "../../packages/core/src/store/ports.js";
import type { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { waitFor } from "../bus/waitFor.js";

const event = (n: number): EventToAppend => ({
  type: "order.placed.v1",
  source: "shop",
  payload: { n },
});

type Store = EventStore & CheckpointStore;

/** A batch publisher in memory: records every call, fails the calls it is told to. */
interface BatchDouble extends BusPublisher {
  publishBatch(messages: readonly BusMessage[]): Promise<PublishAck[]>;
  /** Each publishBatch call's payload numbers, failed calls included. */
  calls: number[][];
  /** Payload numbers stored, in order (a successful call stores its whole batch). */
  stored: number[];
  /** Called before each batch is stored; throw to fail the call. */
  beforeStore: (call: number) => void;
  /** Ids reported as duplicates. */
  duplicateIds: Set<string>;
}

function batchDouble(): BatchDouble {
  const payload = (message: BusMessage) => messageToEnvelope(message).payload.n as number;
  const double: BatchDouble = {
    calls: [],
    stored: [],
    beforeStore: () => {},
    duplicateIds: new Set(),
    publish: async () => {
      throw new Error("publish must not be called when publishBatch exists");
    },
    async publishBatch(messages) {
      double.calls.push(messages.map(payload));
      double.beforeStore(double.calls.length);
      double.stored.push(...messages.map(payload));
      return messages.map((message) => ({ duplicate: double.duplicateIds.has(message.id) }));
    },
    close: async () => {},
  };
  return double;
}

let store: Store;
let forwarder: Forwarder | undefined;
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
  await store?.close();
});

describe("forwarder with a batch publisher", () => {
  it("sends each read batch in one call, in commit order, and checkpoints after it", async () => {
    store = createMemoryEventStore();
    for (let n = 1; n <= 7; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    const publisher = batchDouble();
    forwarder = createForwarder({ store, publisher, batchSize: 3 });
    const first = await forwarder.runOnce();
    expect(first).toMatchObject({ published: 3, duplicates: 0 });
    expect(await store.getCheckpoint("forwarder")).toBe(first.checkpoint);
    const rest = [await forwarder.runOnce(), await forwarder.runOnce(), await forwarder.runOnce()];
    expect(rest.map((result) => result.published)).toEqual([3, 1, 0]);
    // The empty run made no call.
    expect(publisher.calls).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(publisher.stored).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await store.getCheckpoint("forwarder")).toBe(rest[2]?.checkpoint);
    expect(forwarder.status()).toMatchObject({ published: 7, duplicates: 0 });
  });

  it("gives each message its subject and the envelope as data", async () => {
    store = createMemoryEventStore();
    await store.publish("order/1", 0, [event(1)]);
    const seen: BusMessage[] = [];
    const publisher: BusPublisher = {
      publish: async () => ({ duplicate: false }),
      publishBatch: async (messages) => {
        seen.push(...messages);
        return messages.map(() => ({ duplicate: false }));
      },
      close: async () => {},
    };
    forwarder = createForwarder({ store, publisher });
    await forwarder.runOnce();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.subject).toBe("herald.shop.order.order.placed.v1");
    const envelope = messageToEnvelope(seen[0] as BusMessage);
    expect(seen[0]?.id).toBe(envelope.id);
    expect(envelope.payload).toEqual({ n: 1 });
  });

  it("a failed call saves no checkpoint; the next run sends the whole batch again", async () => {
    store = createMemoryEventStore();
    for (let n = 1; n <= 4; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    const publisher = batchDouble();
    publisher.beforeStore = (call) => {
      if (call === 1) throw new Error("bus went away");
    };
    forwarder = createForwarder({ store, publisher });
    await expect(forwarder.runOnce()).rejects.toMatchObject({ message: "bus went away" });
    expect(await store.getCheckpoint("forwarder")).toBeUndefined();
    expect(forwarder.status()).toMatchObject({ published: 0, checkpoint: undefined });
    expect(forwarder.status().lastError?.message).toBe("bus went away");
    const retry = await forwarder.runOnce();
    expect(retry).toMatchObject({ published: 4 });
    expect(publisher.calls).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    expect(publisher.stored).toEqual([1, 2, 3, 4]);
    expect(await store.getCheckpoint("forwarder")).toBe(retry.checkpoint);
    expect(forwarder.status()).toMatchObject({ published: 4, lastError: undefined });
  });

  it("counts the acks the bus reports as duplicates", async () => {
    store = createMemoryEventStore();
    const { events } = await store.publish("order/1", 0, [event(1), event(2)]);
    const publisher = batchDouble();
    publisher.duplicateIds.add(events[0]?.envelope.id ?? "");
    forwarder = createForwarder({ store, publisher });
    expect(await forwarder.runOnce()).toMatchObject({ published: 2, duplicates: 1 });
    expect(forwarder.status()).toMatchObject({ published: 2, duplicates: 1 });
  });

  it("the polling loop drains full batches, survives a failed call, and resends that batch", async () => {
    store = createMemoryEventStore();
    for (let n = 1; n <= 5; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    const publisher = batchDouble();
    publisher.beforeStore = (call) => {
      if (call === 2) throw new Error("transient");
    };
    const errors: HeraldError[] = [];
    forwarder = createForwarder({
      store,
      publisher,
      batchSize: 2,
      pollIntervalMs: 5,
      onError: (error) => void errors.push(error),
    });
    forwarder.start();
    await waitFor(() => publisher.stored.length === 5);
    await forwarder.stop();
    expect(publisher.calls).toEqual([[1, 2], [3, 4], [3, 4], [5]]);
    expect(publisher.stored).toEqual([1, 2, 3, 4, 5]);
    expect(errors.map((error) => error.message)).toEqual(["transient"]);
    expect(await store.getCheckpoint("forwarder")).toBe(forwarder.status().checkpoint);
  });

  it("keeps the one-by-one path for a publisher without publishBatch", async () => {
    store = createMemoryEventStore();
    for (let n = 1; n <= 3; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    const one: number[] = [];
    const publisher: BusPublisher = {
      publish: async (message) => {
        one.push(messageToEnvelope(message).payload.n as number);
        return { duplicate: false };
      },
      close: async () => {},
    };
    forwarder = createForwarder({ store, publisher });
    expect(await forwarder.runOnce()).toMatchObject({ published: 3 });
    expect(one).toEqual([1, 2, 3]);
  });
});
