// The in-memory bus honours the bus contract: dedupe by id within the window, durable
// consumers, ack / nak-with-delay redelivery, dead letters after maxDeliver.
import { ManualClock } from "@heraldjs/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryBus, type MemoryBus } from "../../packages/core/src/bus/memory.js";
import type { BusMessage, DeadLetter, DeliveryContext } from "../../packages/core/src/bus/port.js";
import { retryDelayMs } from "../../packages/core/src/bus/settle.js";
import { waitFor } from "./waitFor.js";

const message = (id: string, subject = "herald.test.thing.thing.done.v1"): BusMessage => ({
  id,
  subject,
  data: new TextEncoder().encode(id),
  headers: { "x-test": id },
});

let bus: MemoryBus | undefined;
afterEach(async () => {
  await bus?.close();
  bus = undefined;
});

describe("memory bus publisher", () => {
  it("stores each id once within the duplicate window and reports re-sends", async () => {
    const clock = new ManualClock(1_000);
    bus = createMemoryBus({ clock, duplicateWindowMs: 60_000 });
    expect(await bus.publisher.publish(message("a"))).toEqual({ duplicate: false, sequence: 1 });
    expect(await bus.publisher.publish(message("b"))).toEqual({ duplicate: false, sequence: 2 });
    clock.advance(59_999);
    expect(await bus.publisher.publish(message("a"))).toEqual({ duplicate: true, sequence: 1 });
    expect(bus.messages().map((stored) => stored.message.id)).toEqual(["a", "b"]);
    // Past the window the id is forgotten, as JetStream forgets it.
    clock.advance(1);
    expect(await bus.publisher.publish(message("a"))).toEqual({ duplicate: false, sequence: 3 });
  });

  it("refuses to publish once closed", async () => {
    bus = createMemoryBus();
    await bus.close();
    await expect(bus.publisher.publish(message("a"))).rejects.toMatchObject({
      code: "bus.unavailable",
    });
  });
});

describe("memory bus consumer", () => {
  it("delivers every stored message once, in order, and acks", async () => {
    bus = createMemoryBus();
    const seen: string[] = [];
    await bus.publisher.publish(message("1"));
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: (received) => {
        seen.push(received.id);
      },
    });
    await bus.publisher.publish(message("2"));
    await bus.publisher.publish(message("3"));
    await waitFor(() => seen.length === 3);
    await subscription.stop();
    expect(seen).toEqual(["1", "2", "3"]);
  });

  it("a durable resumes where it stopped; a new durable starts at the beginning", async () => {
    bus = createMemoryBus();
    const first: string[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: (received) => {
        first.push(received.id);
      },
    });
    await bus.publisher.publish(message("1"));
    await waitFor(() => first.length === 1);
    await subscription.stop();
    await bus.publisher.publish(message("2"));

    const resumed: string[] = [];
    const again = await bus.consumer.subscribe({
      durable: "worker",
      handler: (received) => {
        resumed.push(received.id);
      },
    });
    const fresh: string[] = [];
    const other = await bus.consumer.subscribe({
      durable: "audit",
      handler: (received) => {
        fresh.push(received.id);
      },
    });
    await waitFor(() => resumed.length === 1 && fresh.length === 2);
    await Promise.all([again.stop(), other.stop()]);
    expect(resumed).toEqual(["2"]);
    expect(fresh).toEqual(["1", "2"]);
  });

  it("filters by subject with NATS wildcards", async () => {
    bus = createMemoryBus();
    const seen: string[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "orders",
      filterSubjects: ["herald.*.order.>"],
      handler: (received) => {
        seen.push(received.id);
      },
    });
    await bus.publisher.publish(message("o", "herald.billing.order.order.created.v1"));
    await bus.publisher.publish(message("i", "herald.billing.invoice.invoice.paid.v1"));
    await bus.publisher.publish(message("o2", "herald.shop.order.order.paid.v1"));
    await waitFor(() => seen.length === 2);
    await subscription.stop();
    expect(seen).toEqual(["o", "o2"]);
  });

  it("redelivers a failed message after the nak delay, counting deliveries", async () => {
    bus = createMemoryBus();
    const contexts: DeliveryContext[] = [];
    const times: number[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      nakDelayMs: 50,
      handler: (_received, context) => {
        contexts.push(context);
        times.push(Date.now());
        if (context.deliveryCount < 3) throw new Error("not yet");
      },
    });
    await bus.publisher.publish(message("a"));
    await waitFor(() => contexts.length === 3);
    await subscription.stop();
    expect(contexts).toEqual([
      { deliveryCount: 1, redelivered: false, maxDeliver: 5 },
      { deliveryCount: 2, redelivered: true, maxDeliver: 5 },
      { deliveryCount: 3, redelivered: true, maxDeliver: 5 },
    ]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(45);
  });

  it("keeps delivering other messages while one waits for its redelivery", async () => {
    bus = createMemoryBus();
    const seen: string[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      nakDelayMs: 100,
      handler: (received, context) => {
        seen.push(`${received.id}#${context.deliveryCount}`);
        if (received.id === "a" && context.deliveryCount === 1) return { action: "nak" };
      },
    });
    await bus.publisher.publish(message("a"));
    await bus.publisher.publish(message("b"));
    await waitFor(() => seen.length === 3);
    await subscription.stop();
    expect(seen).toEqual(["a#1", "b#1", "a#2"]);
  });

  it("terminates after maxDeliver failures and reports a dead letter once", async () => {
    bus = createMemoryBus();
    const deadLetters: DeadLetter[] = [];
    let calls = 0;
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      maxDeliver: 3,
      backoff: [10, 20],
      handler: () => {
        calls++;
        throw new Error("downstream is down");
      },
      onDeadLetter: (deadLetter) => {
        deadLetters.push(deadLetter);
      },
    });
    await bus.publisher.publish(message("poison"));
    await waitFor(() => deadLetters.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await subscription.stop();
    expect(calls).toBe(3);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      message: { id: "poison" },
      deliveryCount: 3,
      reason: "gave up after 3 deliveries: downstream is down",
      error: { code: "handler.failed" },
    });
  });

  it("a handler's term disposition dead-letters at once", async () => {
    bus = createMemoryBus();
    const deadLetters: DeadLetter[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: () => ({ action: "term", reason: "unknown event type" }),
      onDeadLetter: (deadLetter) => {
        deadLetters.push(deadLetter);
      },
    });
    await bus.publisher.publish(message("x"));
    await waitFor(() => deadLetters.length === 1);
    await subscription.stop();
    expect(deadLetters[0]).toMatchObject({ deliveryCount: 1, reason: "unknown event type" });
  });

  it("stop waits for the message in hand to be settled", async () => {
    bus = createMemoryBus();
    let finished = false;
    let started = false;
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = true;
      },
    });
    await bus.publisher.publish(message("slow"));
    await waitFor(() => started);
    await subscription.stop();
    expect(finished).toBe(true);
  });

  it("rejects nonsensical options", async () => {
    bus = createMemoryBus();
    const handler = () => {};
    for (const options of [
      { durable: "a.b", handler },
      { durable: "", handler },
      { durable: "w", maxDeliver: 0, handler },
      { durable: "w", nakDelayMs: -1, handler },
      { durable: "w", backoff: [1, Number.NaN], handler },
    ]) {
      await expect(bus.consumer.subscribe(options)).rejects.toMatchObject({
        code: "config.invalid",
      });
    }
  });
});

describe("retryDelayMs", () => {
  it("uses the fixed delay, or the backoff entry for the delivery, the last repeating", () => {
    expect(retryDelayMs(1)).toBe(5000);
    expect(retryDelayMs(3, { nakDelayMs: 250 })).toBe(250);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, { backoff: [10, 20, 30] }))).toEqual([
      10, 20, 30, 30,
    ]);
  });
});
