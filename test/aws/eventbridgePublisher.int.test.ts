// The EventBridge publisher on moto: a bus whose rule routes Herald's source to an SQS queue.
// Batches go out in PutEvents calls of at most 10 entries and 256 KB and arrive whole; an
// oversize entry is refused before any call; a missing bus is bus.unavailable; the outbox
// forwarder relays through it in batch mode.
import {
  EventBridgeClient,
  ListEventBusesCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createEventBridgePublisher } from "../../packages/aws/src/index.js";
import { envelopeToMessage } from "../../packages/core/src/bus/envelopeCodec.js";
import type { BusMessage } from "../../packages/core/src/bus/port.js";
import { createEnvelope } from "../../packages/core/src/core/envelope.js";
import { createForwarder } from "../../packages/core/src/events/forwarder.js";
import { createMemoryEventStore } from "../../packages/core/src/store/memory/eventStore.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";
import { type BusToQueue, busToQueue, drainQueue } from "./eventbridgeToSqs.js";

const available = motoAvailable("EventBridge publisher tests");

const SOURCE = "herald.test";

function message(n: number, payload: Record<string, unknown> = {}): BusMessage {
  return envelopeToMessage(
    createEnvelope({ type: "order.placed.v1", source: "shop", payload: { n, ...payload } }),
  );
}

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("EventBridge publisher on moto", () => {
  let moto: MotoServer;
  let events: EventBridgeClient;
  let sqs: SQSClient;
  let route: BusToQueue;
  /** The entries of every PutEvents call made through `events`, in order. */
  let calls: PutEventsRequestEntry[][];

  beforeAll(async () => {
    moto = await startMoto();
    events = new EventBridgeClient(awsClientConfig(moto.aws));
    sqs = new SQSClient(awsClientConfig(moto.aws));
    events.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutEventsCommand") {
          const input = args.input as { Entries?: PutEventsRequestEntry[] };
          calls.push([...(input.Entries ?? [])]);
        }
        return next(args);
      },
      { step: "initialize", name: "countPutEvents" },
    );
    route = await busToQueue(events, sqs, "herald-test-bus", SOURCE);
  }, 60_000);

  afterAll(async () => {
    events?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  beforeEach(() => {
    calls = [];
  });

  const publisher = () =>
    createEventBridgePublisher({ client: events, eventBusName: route.busName, source: SOURCE });

  it("publishes 25 messages in 3 PutEvents calls; each arrives once, detail = the envelope", async () => {
    const messages = Array.from({ length: 25 }, (_, i) => message(i + 1));
    const acks = await publisher().publishBatch(messages);
    expect(acks).toEqual(messages.map(() => ({ duplicate: false })));
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 5]);
    const delivered = await drainQueue(sqs, route.queueUrl);
    expect(delivered).toHaveLength(25);
    const byId = new Map(delivered.map((event) => [event.detail.id, event]));
    expect(byId.size).toBe(25);
    for (const [i, sent] of messages.entries()) {
      const envelope = JSON.parse(new TextDecoder().decode(sent.data));
      const event = byId.get(sent.id);
      expect(event).toMatchObject({
        source: SOURCE,
        "detail-type": "order.placed.v1",
        // moto writes the entry's Time to the second: it is the envelope's occurredAt.
        time: `${envelope.occurredAt.slice(0, 19)}Z`,
      });
      expect(event?.detail).toEqual(envelope);
      expect(event?.detail).toMatchObject({ type: "order.placed.v1", payload: { n: i + 1 } });
    }
  });

  it("publish sends one message in one call", async () => {
    const one = message(1);
    expect(await publisher().publish(one)).toEqual({ duplicate: false });
    expect(calls).toHaveLength(1);
    const delivered = await drainQueue(sqs, route.queueUrl);
    expect(delivered.map((event) => event.detail.id)).toEqual([one.id]);
  });

  it("splits a batch by size: four ~100 KB messages go out two per call", async () => {
    const big = "x".repeat(100 * 1024);
    const messages = [1, 2, 3, 4].map((n) => message(n, { big }));
    await publisher().publishBatch(messages);
    expect(calls.map((entries) => entries.length)).toEqual([2, 2]);
    const delivered = await drainQueue(sqs, route.queueUrl);
    expect(delivered.map((event) => event.detail.id).sort()).toEqual(
      messages.map((m) => m.id).sort(),
    );
    expect(delivered.every((event) => event.detail.payload.big === big)).toBe(true);
  });

  it("refuses a batch holding an entry over 256 KB before any call", async () => {
    const oversize = message(2, { big: "x".repeat(257 * 1024) });
    const error = await publisher()
      .publishBatch([message(1), oversize, message(3)])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "bus.message_too_large",
      details: { id: oversize.id, max: 256 * 1024 },
    });
    expect((error as { details: { size: number } }).details.size).toBeGreaterThan(257 * 1024);
    expect(calls).toEqual([]);
    // moto would have taken it (it does not enforce the size): the queue proves nothing went.
    expect(await drainQueue(sqs, route.queueUrl)).toEqual([]);
  });

  it("refuses data that is not a JSON object before any call", async () => {
    const notJson: BusMessage = { ...message(1), data: new TextEncoder().encode("not json") };
    await expect(publisher().publishBatch([message(2), notJson])).rejects.toMatchObject({
      code: "message.invalid",
      details: { id: notJson.id },
    });
    expect(calls).toEqual([]);
    expect(await drainQueue(sqs, route.queueUrl)).toEqual([]);
  });

  it("a missing bus is bus.unavailable, with the SDK error as cause", async () => {
    const missing = createEventBridgePublisher({ client: events, eventBusName: "no-such-bus" });
    const error = await missing.publish(message(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "bus.unavailable" });
    expect((error as Error).cause).toMatchObject({ name: "ResourceNotFoundException" });
    expect(calls).toHaveLength(1);
  });

  it("close destroys an owned client, never a borrowed one", async () => {
    const borrowed = publisher();
    await borrowed.close();
    await expect(borrowed.publish(message(1))).rejects.toMatchObject({ code: "bus.unavailable" });
    // The borrowed client still works.
    await expect(events.send(new ListEventBusesCommand({}))).resolves.toBeDefined();
    const owned = createEventBridgePublisher({
      aws: moto.aws,
      eventBusName: route.busName,
      source: SOURCE,
    });
    await owned.publish(message(2));
    await owned.close();
    await expect(owned.publish(message(3))).rejects.toMatchObject({ code: "bus.unavailable" });
    expect((await drainQueue(sqs, route.queueUrl)).map((e) => e.detail.payload.n)).toEqual([2]);
  });

  it("the forwarder relays 30 outbox events in one batch and saves its checkpoint", async () => {
    const store = createMemoryEventStore();
    const ids: string[] = [];
    for (let n = 1; n <= 30; n++) {
      const { events: stored } = await store.publish(`order/${n}`, 0, [
        { type: "order.placed.v1", source: "shop", payload: { n } },
      ]);
      ids.push(...stored.map((event) => event.envelope.id));
    }
    const forwarder = createForwarder({ store, publisher: publisher() });
    const result = await forwarder.runOnce();
    expect(result).toMatchObject({ published: 30, duplicates: 0 });
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 10]);
    expect(await store.getCheckpoint("forwarder")).toBe(result.checkpoint);
    expect(result.checkpoint).toBeDefined();
    const delivered = await drainQueue(sqs, route.queueUrl);
    expect(delivered.map((event) => event.detail.id).sort()).toEqual([...ids].sort());
    expect(await forwarder.runOnce()).toMatchObject({ published: 0 });
    expect(calls).toHaveLength(3);
    await store.close();
  });
});
