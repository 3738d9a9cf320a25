// The outbox forwarder over the memory event store and memory bus: commit order, checkpoint
// resume, failures retried on the next run, and nothing lost or stored twice.
import { afterEach, describe, expect, it } from "vitest";
import { messageToEnvelope } from "../../packages/core/src/bus/envelopeCodec.js";
import { createMemoryBus, type MemoryBus } from "../../packages/core/src/bus/memory.js";
import type { BusPublisher } from "../../packages/core/src/bus/port.js";
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

let bus: MemoryBus;
let store: Store;
let forwarder: Forwarder | undefined;
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
  await bus?.close();
  await store?.close();
});

function setUp(): void {
  bus = createMemoryBus();
  store = createMemoryEventStore();
}

/** Event payload numbers on the bus, in bus order. */
const onBus = () => bus.messages().map((stored) => messageToEnvelope(stored.message).payload.n);

describe("forwarder", () => {
  it("publishes outbox events in commit order across streams, skipping plain appends", async () => {
    setUp();
    await store.publish("order/1", 0, [event(1), event(2)]);
    await store.append("order/9", [event(99)]);
    await store.publish("order/2", 0, [event(3)]);
    await store.publish("order/1", 2, [event(4)]);
    forwarder = createForwarder({ store, publisher: bus.publisher });
    const result = await forwarder.runOnce();
    expect(result).toMatchObject({ published: 4, duplicates: 0 });
    expect(onBus()).toEqual([1, 2, 3, 4]);
    const first = bus.messages()[0]!.message;
    expect(first.subject).toBe("herald.shop.order.order.placed.v1");
    expect(messageToEnvelope(first).aggregate).toEqual({ type: "order", id: "1", version: 1 });
    expect(await store.getCheckpoint("forwarder")).toBe(result.checkpoint);
    // Nothing new: nothing published, checkpoint unchanged.
    expect(await forwarder.runOnce()).toMatchObject({
      published: 0,
      checkpoint: result.checkpoint,
    });
  });

  it("resumes after its checkpoint in a new instance (a restart)", async () => {
    setUp();
    await store.publish("order/1", 0, [event(1), event(2)]);
    await createForwarder({ store, publisher: bus.publisher }).runOnce();
    await store.publish("order/1", 2, [event(3)]);
    forwarder = createForwarder({ store, publisher: bus.publisher });
    expect(await forwarder.runOnce()).toMatchObject({ published: 1, duplicates: 0 });
    expect(onBus()).toEqual([1, 2, 3]);
  });

  it("reads batchSize events per run and checkpoints each batch", async () => {
    setUp();
    for (let n = 1; n <= 7; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    forwarder = createForwarder({ store, publisher: bus.publisher, batchSize: 3 });
    const published: number[] = [];
    for (let run = 0; run < 4; run++) published.push((await forwarder.runOnce()).published);
    expect(published).toEqual([3, 3, 1, 0]);
    expect(onBus()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a publish failure keeps the acked part; the next run retries from the failed event", async () => {
    setUp();
    for (let n = 1; n <= 5; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    let calls = 0;
    const flaky: BusPublisher = {
      publish: async (message) => {
        calls++;
        if (calls === 3) throw new Error("bus went away");
        return bus.publisher.publish(message);
      },
      close: async () => {},
    };
    forwarder = createForwarder({ store, publisher: flaky });
    await expect(forwarder.runOnce()).rejects.toMatchObject({ message: "bus went away" });
    expect(onBus()).toEqual([1, 2]);
    expect(forwarder.status().lastError?.message).toBe("bus went away");
    const retry = await forwarder.runOnce();
    // Only the unacked events were sent again: the checkpoint covered 1 and 2.
    expect(retry).toMatchObject({ published: 3, duplicates: 0 });
    expect(onBus()).toEqual([1, 2, 3, 4, 5]);
    expect(forwarder.status()).toMatchObject({ published: 5, lastError: undefined });
  });

  it("a crash before the checkpoint re-publishes the batch; the bus's msg-id dedupe absorbs it", async () => {
    setUp();
    for (let n = 1; n <= 4; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    // The process "dies" after every publish was acked but before the checkpoint is saved.
    const crashing: Store = Object.assign(Object.create(null), store, {
      saveCheckpoint: async () => {
        throw new Error("killed");
      },
    });
    await expect(
      createForwarder({ store: crashing, publisher: bus.publisher }).runOnce(),
    ).rejects.toThrow("killed");
    expect(await store.getCheckpoint("forwarder")).toBeUndefined();
    forwarder = createForwarder({ store, publisher: bus.publisher });
    expect(await forwarder.runOnce()).toMatchObject({ published: 4, duplicates: 4 });
    expect(onBus()).toEqual([1, 2, 3, 4]);
  });

  it("runs never overlap: concurrent runOnce calls publish each event once", async () => {
    setUp();
    for (let n = 1; n <= 10; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    let sends = 0;
    const counting: BusPublisher = {
      publish: async (message) => {
        sends++;
        return bus.publisher.publish(message);
      },
      close: async () => {},
    };
    forwarder = createForwarder({ store, publisher: counting, batchSize: 4 });
    const results = await Promise.all([
      forwarder.runOnce(),
      forwarder.runOnce(),
      forwarder.runOnce(),
    ]);
    expect(results.map((result) => result.published)).toEqual([4, 4, 2]);
    expect(sends).toBe(10);
  });

  it("uses a custom subject", async () => {
    setUp();
    await store.publish("order/1", 0, [event(1)]);
    forwarder = createForwarder({
      store,
      publisher: bus.publisher,
      subject: (envelope) => `custom.${envelope.type}`,
    });
    await forwarder.runOnce();
    expect(bus.messages()[0]!.message.subject).toBe("custom.order.placed.v1");
  });

  it("the polling loop forwards new events, survives failures, and stops gracefully", async () => {
    setUp();
    let failNext = true;
    const errors: HeraldError[] = [];
    const flaky: BusPublisher = {
      publish: async (message) => {
        if (failNext) {
          failNext = false;
          throw new Error("transient");
        }
        return bus.publisher.publish(message);
      },
      close: async () => {},
    };
    forwarder = createForwarder({
      store,
      publisher: flaky,
      pollIntervalMs: 10,
      batchSize: 2,
      onError: (error) => void errors.push(error),
    });
    forwarder.start();
    forwarder.start(); // a second start is a no-op
    expect(forwarder.status().running).toBe(true);
    for (let n = 1; n <= 5; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    await waitFor(() => bus.messages().length === 5);
    await store.publish("order/6", 0, [event(6)]);
    await waitFor(() => bus.messages().length === 6);
    await forwarder.stop();
    expect(forwarder.status().running).toBe(false);
    expect(onBus()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(errors.map((error) => error.message)).toEqual(["transient"]);
    // Stopped: later events wait for the next start.
    await store.publish("order/7", 0, [event(7)]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bus.messages()).toHaveLength(6);
  });

  it("stop during a run lets the batch finish and checkpoint, without waiting a poll interval", async () => {
    setUp();
    for (let n = 1; n <= 3; n++) await store.publish(`order/${n}`, 0, [event(n)]);
    let started = false;
    const slow: BusPublisher = {
      publish: async (message) => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 30));
        return bus.publisher.publish(message);
      },
      close: async () => {},
    };
    forwarder = createForwarder({ store, publisher: slow, pollIntervalMs: 60_000 });
    forwarder.start();
    await waitFor(() => started);
    const begun = Date.now();
    await forwarder.stop();
    expect(Date.now() - begun).toBeLessThan(1000);
    expect(onBus()).toEqual([1, 2, 3]);
    expect(await store.getCheckpoint("forwarder")).toBe(forwarder.status().checkpoint);
    expect(forwarder.status()).toMatchObject({ running: false, published: 3 });
  });

  it("rejects a batch size that is not a positive integer", () => {
    setUp();
    expect(() => createForwarder({ store, publisher: bus.publisher, batchSize: 0 })).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
  });
});
