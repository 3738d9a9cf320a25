// The NATS JetStream adapter against a real server: stream creation, Nats-Msg-Id dedupe,
// consumer ack / nak / redelivery / maxDeliver, and the inbox running a handler once per event.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createEnvelope, type EventEnvelope } from "@heraldjs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DUPLICATE_WINDOW_MS } from "../../packages/core/src/bus/duplicateWindow.js";
import { envelopeToMessage } from "../../packages/core/src/bus/envelopeCodec.js";
import { inboxKey } from "../../packages/core/src/bus/inbox.js";
import type { BusMessage, DeadLetter, DeliveryContext } from "../../packages/core/src/bus/port.js";
import { createForwarder } from "../../packages/core/src/events/forwarder.js";
import { createMemoryEventStore } from "../../packages/core/src/store/memory/eventStore.js";
import { createNatsBusConsumer } from "../../packages/nats/src/bus/nats/consumer.js";
import { createNatsConsumer } from "../../packages/nats/src/bus/nats/envelopeConsumer.js";
import {
  createNatsPublisher,
  type NatsPublisher,
} from "../../packages/nats/src/bus/nats/publisher.js";
import { createMemoryDedupeStore } from "../../packages/webhooks/src/store/memory/dedupeStore.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { createTestStream, type TestStream } from "./natsTestStream.js";
import { waitFor } from "./waitFor.js";

const available = await serviceAvailable("nats");

describe.skipIf(!available)("NATS JetStream bus", () => {
  let t: TestStream;
  let publisher: NatsPublisher;

  beforeAll(async () => {
    t = await createTestStream("natsbus");
    publisher = await createNatsPublisher({
      servers: serviceUrl("nats"),
      stream: t.stream,
      subjects: t.subjects,
    });
  });

  afterAll(async () => {
    await publisher?.close();
    await t?.delete();
  });

  let counter = 0;
  /** A message on its own subject, so each test filters only its own traffic. */
  function message(topic: string, id = `${topic}-${++counter}`): BusMessage {
    return {
      id,
      subject: `${t.prefix}.${topic}`,
      data: new TextEncoder().encode(id),
      headers: { "x-test": topic },
    };
  }

  const event = (n: number): EventEnvelope =>
    createEnvelope({
      type: "order.placed.v1",
      source: "shop",
      payload: { n },
      aggregate: { type: "order", id: String(n), version: 1 },
    });

  it("creates the stream with its subjects and a 2 h duplicate window", async () => {
    expect(publisher.stream).toMatchObject({
      stream: t.stream,
      created: true,
      subjects: t.subjects,
      duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    });
    const info = await t.jsm.streams.info(t.stream);
    expect(info.config.duplicate_window).toBe(DEFAULT_DUPLICATE_WINDOW_MS * 1e6);
    expect(info.config.storage).toBe("file");
    // A second publisher (another process starting) finds it and leaves it alone.
    const second = await createNatsPublisher({
      connection: t.connection,
      stream: t.stream,
      subjects: ["ignored.>"],
      duplicateWindowMs: 1000,
    });
    expect(second.stream).toMatchObject({ created: false, subjects: t.subjects });
    await second.close();
    expect(t.connection.isClosed()).toBe(false); // a borrowed connection stays open
  });

  it("stores a message id once: the re-send is acked as a duplicate", async () => {
    const before = await t.count();
    const envelope = event(1);
    const sent = envelopeToMessage(envelope, { prefix: t.prefix });
    const first = await publisher.publish(sent);
    const again = await publisher.publish(sent);
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ duplicate: true, sequence: first.sequence });
    expect(await t.count()).toBe(before + 1);

    const stored = await t.jsm.streams.getMessage(t.stream, { seq: first.sequence! });
    expect(stored?.subject).toBe(`${t.prefix}.shop.order.order.placed.v1`);
    expect(stored?.header.get("Nats-Msg-Id")).toBe(envelope.id);
    expect(stored?.header.get("herald-event-id")).toBe(envelope.id);
    expect(stored?.header.get("herald-event-type")).toBe("order.placed.v1");
    expect(JSON.parse(new TextDecoder().decode(stored?.data))).toEqual(envelope);
  });

  it("rejects a subject the stream does not capture instead of losing it", async () => {
    await expect(
      publisher.publish({ ...message("x"), subject: `elsewhere-${t.prefix}.x` }),
    ).rejects.toMatchObject({ code: "bus.unavailable" });
  });

  it("acks handled messages: nothing pending afterwards", async () => {
    const consumer = createNatsBusConsumer(t.connection, { stream: t.stream });
    const seen: string[] = [];
    const sub = await consumer.subscribe({
      durable: "acker",
      filterSubjects: [`${t.prefix}.ack`],
      handler: (received) => void seen.push(received.id),
    });
    const sent = [message("ack"), message("ack"), message("ack")];
    for (const m of sent) await publisher.publish(m);
    await waitFor(() => seen.length === 3);
    await sub.stop();
    expect(seen).toEqual(sent.map((m) => m.id));
    const info = await t.jsm.consumers.info(t.stream, "acker");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.config.ack_policy).toBe("explicit");
  });

  it("naks a failure with the delay and redelivers it, with the delivery count", async () => {
    const consumer = createNatsBusConsumer(t.connection, { stream: t.stream });
    const deliveries: { context: DeliveryContext; at: number }[] = [];
    const sub = await consumer.subscribe({
      durable: "nakker",
      filterSubjects: [`${t.prefix}.nak`],
      nakDelayMs: 300,
      handler: (_received, context) => {
        deliveries.push({ context, at: Date.now() });
        if (context.deliveryCount === 1) throw new Error("try again");
      },
    });
    await publisher.publish(message("nak"));
    await waitFor(() => deliveries.length === 2);
    await sub.stop();
    expect(deliveries.map((d) => d.context)).toEqual([
      { deliveryCount: 1, redelivered: false, maxDeliver: 5 },
      { deliveryCount: 2, redelivered: true, maxDeliver: 5 },
    ]);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(250);
    expect((await t.jsm.consumers.info(t.stream, "nakker")).num_ack_pending).toBe(0);
  });

  it("terminates after maxDeliver and reports one dead letter", async () => {
    const consumer = createNatsBusConsumer(t.connection, { stream: t.stream });
    const deadLetters: DeadLetter[] = [];
    let calls = 0;
    const sub = await consumer.subscribe({
      durable: "dlq",
      filterSubjects: [`${t.prefix}.poison`],
      maxDeliver: 3,
      backoff: [50, 100],
      handler: () => {
        calls++;
        throw new Error("always fails");
      },
      onDeadLetter: (deadLetter) => void deadLetters.push(deadLetter),
    });
    const poison = message("poison");
    await publisher.publish(poison);
    await waitFor(() => deadLetters.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sub.stop();
    expect(calls).toBe(3);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      message: { id: poison.id, subject: poison.subject, headers: { "x-test": "poison" } },
      deliveryCount: 3,
      reason: "gave up after 3 deliveries: always fails",
    });
    const info = await t.jsm.consumers.info(t.stream, "dlq");
    expect(info.config.max_deliver).toBe(3);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  });

  it("a durable resumes after a restart without redelivering what it acked", async () => {
    const consumer = createNatsBusConsumer(t.connection, { stream: t.stream });
    const seen: string[] = [];
    const options = {
      durable: "resumer",
      filterSubjects: [`${t.prefix}.resume`],
      handler: (received: BusMessage) => void seen.push(received.id),
    };
    const first = await consumer.subscribe(options);
    const a = message("resume");
    await publisher.publish(a);
    await waitFor(() => seen.length === 1);
    await first.stop();
    const b = message("resume");
    await publisher.publish(b);
    const second = await consumer.subscribe(options);
    await waitFor(() => seen.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await second.stop();
    expect(seen).toEqual([a.id, b.id]);
  });

  it("stop drains: the handler in progress and the prefetched messages finish, then it resolves", async () => {
    const consumer = createNatsBusConsumer(t.connection, { stream: t.stream, prefetch: 2 });
    const started: string[] = [];
    let finished = 0;
    const options = {
      durable: "stopper",
      filterSubjects: [`${t.prefix}.stop`],
      handler: async (received: BusMessage) => {
        started.push(received.id);
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished++;
      },
    };
    const sub = await consumer.subscribe(options);
    const sent = [message("stop"), message("stop"), message("stop"), message("stop")];
    for (const m of sent) await publisher.publish(m);
    await waitFor(() => started.length === 1);
    await sub.stop();
    expect(finished).toBe(started.length);
    expect(started.length).toBeLessThan(sent.length);
    expect((await t.jsm.consumers.info(t.stream, "stopper")).num_ack_pending).toBe(0);
    // What was not fetched is delivered to the next subscriber at once.
    const rest: string[] = [];
    const again = await consumer.subscribe({
      ...options,
      handler: (received: BusMessage) => void rest.push(received.id),
    });
    await waitFor(() => started.length + rest.length === sent.length);
    await again.stop();
    expect([...started, ...rest]).toEqual(sent.map((m) => m.id));
  });

  it("createNatsConsumer runs the handler once per event id despite copies and redeliveries", async () => {
    const dedupe = createMemoryDedupeStore();
    const events = [event(10), event(11), event(12)];
    const runs = new Map<string, number>();
    const failedOnce = new Set<string>();
    const consumer = await createNatsConsumer({
      servers: serviceUrl("nats"),
      stream: t.stream,
      durable: "projector",
      filterSubjects: [`${t.prefix}.inbox.>`],
      dedupe,
      nakDelayMs: 50,
      handler: (envelope, context) => {
        // Every event fails its first delivery: redelivery must still run it only once more.
        if (!failedOnce.has(envelope.id)) {
          failedOnce.add(envelope.id);
          throw new Error("first delivery fails");
        }
        expect(context.redelivered).toBe(true);
        runs.set(envelope.id, (runs.get(envelope.id) ?? 0) + 1);
      },
    });
    for (const envelope of events) {
      const sent = envelopeToMessage(envelope, { prefix: `${t.prefix}.inbox` });
      await publisher.publish(sent);
      // The same event stored again under another msg id (as if re-published after the
      // duplicate window): only the inbox can recognise it.
      await publisher.publish({ ...sent, id: `${sent.id}-copy` });
    }
    await waitFor(async () => {
      const info = await t.jsm.consumers.info(t.stream, "projector");
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    await consumer.stop();
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(events.map((e) => [e.id, 1])));
    for (const envelope of events) {
      expect(await dedupe.claim(inboxKey("projector", envelope.id), 1000)).toEqual({
        claimed: false,
        state: "done",
      });
    }
    await dedupe.close?.();
  });

  it("an event already in the inbox is acked without running the handler", async () => {
    const dedupe = createMemoryDedupeStore();
    const envelope = event(20);
    const claim = await dedupe.claim(inboxKey("mailer", envelope.id), 60_000);
    if (!claim.claimed) throw new Error("expected a claim");
    await dedupe.complete(inboxKey("mailer", envelope.id), claim.token, 60_000);
    let calls = 0;
    const consumer = await createNatsConsumer({
      connection: t.connection,
      stream: t.stream,
      durable: "mailer-v2",
      consumerName: "mailer",
      filterSubjects: [`${t.prefix}.done.>`],
      dedupe,
      handler: () => void calls++,
    });
    await publisher.publish(envelopeToMessage(envelope, { prefix: `${t.prefix}.done` }));
    await waitFor(async () => {
      const info = await t.jsm.consumers.info(t.stream, "mailer-v2");
      return info.delivered.stream_seq > 0 && info.num_ack_pending === 0 && info.num_pending === 0;
    });
    await consumer.stop();
    expect(calls).toBe(0);
    expect(t.connection.isClosed()).toBe(false);
    await dedupe.close?.();
  });

  it("the docs example: forwarder to JetStream, consumer with an inbox", async () => {
    const servers = serviceUrl("nats");
    const stream = t.stream;
    const prefix = `${t.prefix}.docs`;
    const store = createMemoryEventStore();
    const dedupe = createMemoryDedupeStore();
    const handled: string[] = [];
    const projectOrder = async (event: EventEnvelope) => void handled.push(event.id);
    const deadLetters: string[] = [];
    // #region nats-quickstart
    // The stream is created when missing: subjects ["herald.>"] unless told, 2 h duplicate window.
    const publisher = await createNatsPublisher({ servers, stream, subjects: [`${prefix}.>`] });
    const forwarder = createForwarder({ store, publisher, subjectPrefix: prefix });
    forwarder.start();

    const consumer = await createNatsConsumer({
      servers,
      stream,
      durable: "order-projector",
      filterSubjects: [`${prefix}.shop.order.>`],
      dedupe, // e.g. createSqliteDedupeStore(db): the handler runs once per event id
      maxDeliver: 5,
      backoff: [1_000, 5_000, 30_000],
      handler: (event) => projectOrder(event),
      onDeadLetter: ({ message, reason }) => void deadLetters.push(`${message.id}: ${reason}`),
    });
    // #endregion nats-quickstart
    const { events } = await store.publish("order/1", 0, [
      { type: "order.placed.v1", source: "shop", payload: {} },
    ]);
    await waitFor(() => handled.length === 1);
    // #region nats-shutdown
    await forwarder.stop(); // finishes the batch in flight and its checkpoint
    await consumer.stop(); // handles what it fetched, then drains its connection
    await publisher.close();
    // #endregion nats-shutdown
    expect(handled).toEqual([events[0]!.envelope.id]);
    expect(deadLetters).toEqual([]);
  });

  it("refuses to consume a stream that does not exist", async () => {
    await expect(
      createNatsConsumer({
        connection: t.connection,
        stream: `${t.stream}_MISSING`,
        durable: "nobody",
        dedupe: createMemoryDedupeStore(),
        handler: () => {},
      }),
    ).rejects.toMatchObject({ code: "config.invalid" });
  });

  it("fails publishes with bus.unavailable once its connection is gone", async () => {
    const own = await createNatsPublisher({
      servers: serviceUrl("nats"),
      stream: t.stream,
      subjects: t.subjects,
    });
    await own.close();
    await expect(own.publish(message("closed"))).rejects.toMatchObject({
      code: "bus.unavailable",
    });
  });
});

describe("NATS loads lazily", () => {
  it("no module of @heraldjs/nats imports the NATS client at load time except via import()", () => {
    const root = join(import.meta.dirname, "../../packages/nats/src");
    const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".ts"),
    );
    // Whole statements, so an import spread over several lines is read too.
    const eager = files.filter((file) =>
      /^(import|export)\s(?!type\b)[^;]*?\sfrom\s+"@nats-io\//m.test(
        readFileSync(join(root, file), "utf8"),
      ),
    );
    expect(files.length).toBeGreaterThan(5);
    expect(eager).toEqual([]);
  });
});
