// The inbox makes a handler run once per event id on an at-least-once bus: copies of an event
// (re-published past the dedupe window, redelivered) are acked without running it again.
import { createEnvelope, type EventEnvelope, ManualClock } from "@heraldjs/core";
import { afterEach, describe, expect, it } from "vitest";
import { envelopeToMessage } from "../../packages/core/src/bus/envelopeCodec.js";
import { inboxKey } from "../../packages/core/src/bus/inbox.js";
import { inboxHandler } from "../../packages/core/src/bus/inboxHandler.js";
import { createMemoryBus, type MemoryBus } from "../../packages/core/src/bus/memory.js";
import type { DeadLetter } from "../../packages/core/src/bus/port.js";
import type { DedupeStore } from "../../packages/core/src/store/ports.js";
import { createMemoryDedupeStore } from "../../packages/webhooks/src/store/memory/dedupeStore.js";
import { waitFor } from "./waitFor.js";

const event = (n: number): EventEnvelope =>
  createEnvelope({ type: "thing.happened.v1", source: "test", payload: { n } });

let bus: MemoryBus | undefined;
let dedupe: DedupeStore | undefined;
afterEach(async () => {
  await bus?.close();
  await dedupe?.close?.();
  bus = undefined;
  dedupe = undefined;
});

describe("inboxHandler on the memory bus", () => {
  it("runs the handler once per event id, even for copies the bus stored twice", async () => {
    const clock = new ManualClock(0);
    bus = createMemoryBus({ clock, duplicateWindowMs: 1000 });
    dedupe = createMemoryDedupeStore();
    const handled: string[] = [];
    const events = [event(1), event(2)];
    for (const envelope of events) await bus.publisher.publish(envelopeToMessage(envelope));
    // Past the bus's window the same event is stored again: only the inbox catches it.
    clock.advance(5000);
    await bus.publisher.publish(envelopeToMessage(events[0]!));
    expect(bus.messages()).toHaveLength(3);

    const inbox = inboxHandler((envelope) => void handled.push(envelope.id), {
      consumer: "projector",
      dedupe,
    });
    const outcomes: unknown[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "projector",
      handler: async (message, context) => {
        const outcome = await inbox(message, context);
        outcomes.push(outcome);
        return outcome;
      },
    });
    await waitFor(() => outcomes.length === 3);
    await subscription.stop();
    expect(outcomes).toEqual([{ action: "ack" }, { action: "ack" }, { action: "ack" }]);
    expect(handled).toEqual(events.map((envelope) => envelope.id));
  });

  it("two consumer names each handle the event once", async () => {
    bus = createMemoryBus();
    dedupe = createMemoryDedupeStore();
    const handled: string[] = [];
    const subscriptions = await Promise.all(
      ["mailer", "ledger"].map((name) =>
        bus!.consumer.subscribe({
          durable: name,
          handler: inboxHandler(() => void handled.push(name), { consumer: name, dedupe: dedupe! }),
        }),
      ),
    );
    await bus.publisher.publish(envelopeToMessage(event(1)));
    await waitFor(() => handled.length === 2);
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    expect(handled.sort()).toEqual(["ledger", "mailer"]);
  });

  it("a failed handler releases the claim, so the redelivery runs it (once more)", async () => {
    bus = createMemoryBus();
    dedupe = createMemoryDedupeStore();
    let calls = 0;
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      nakDelayMs: 10,
      handler: inboxHandler(
        () => {
          calls++;
          if (calls === 1) throw new Error("flaky");
        },
        { consumer: "worker", dedupe },
      ),
    });
    const envelope = event(1);
    await bus.publisher.publish(envelopeToMessage(envelope));
    await waitFor(() => calls === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await subscription.stop();
    expect(calls).toBe(2);
    expect(await dedupe.claim(inboxKey("worker", envelope.id), 1000)).toEqual({
      claimed: false,
      state: "done",
    });
  });

  it("a copy arriving while another holder processes it is retried after busyDelayMs", async () => {
    bus = createMemoryBus();
    dedupe = createMemoryDedupeStore();
    const envelope = event(1);
    // Another process holds the claim, then finishes.
    const held = await dedupe.claim(inboxKey("worker", envelope.id), 60_000);
    if (!held.claimed) throw new Error("expected a claim");
    const deliveries: number[] = [];
    let calls = 0;
    const handler = inboxHandler(() => void calls++, {
      consumer: "worker",
      dedupe,
      busyDelayMs: 20,
    });
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: (message, context) => {
        deliveries.push(context.deliveryCount);
        return handler(message, context);
      },
    });
    await bus.publisher.publish(envelopeToMessage(envelope));
    await waitFor(() => deliveries.length >= 2);
    await dedupe.complete(inboxKey("worker", envelope.id), held.token, 60_000);
    await waitFor(() => deliveries.length >= 3);
    await subscription.stop();
    // The other holder did the work; this consumer never ran the handler.
    expect(calls).toBe(0);
  });

  it("terminates a body that is not an envelope without retrying", async () => {
    bus = createMemoryBus();
    dedupe = createMemoryDedupeStore();
    const deadLetters: DeadLetter[] = [];
    let calls = 0;
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      handler: inboxHandler(() => void calls++, { consumer: "worker", dedupe }),
      onDeadLetter: (deadLetter) => void deadLetters.push(deadLetter),
    });
    await bus.publisher.publish({
      id: "junk",
      subject: "herald.x",
      data: new TextEncoder().encode("{}"),
      headers: {},
    });
    await waitFor(() => deadLetters.length === 1);
    await subscription.stop();
    expect(calls).toBe(0);
    expect(deadLetters[0]).toMatchObject({
      deliveryCount: 1,
      reason: expect.stringContaining("Invalid envelope"),
    });
  });

  it("never runs the handler when the inbox cannot record the claim", async () => {
    bus = createMemoryBus();
    const failing: DedupeStore = {
      claim: async () => {
        throw new Error("database is down");
      },
      complete: async () => true,
      release: async () => {},
    };
    const deadLetters: DeadLetter[] = [];
    let calls = 0;
    const subscription = await bus.consumer.subscribe({
      durable: "worker",
      maxDeliver: 2,
      nakDelayMs: 5,
      handler: inboxHandler(() => void calls++, { consumer: "worker", dedupe: failing }),
      onDeadLetter: (deadLetter) => void deadLetters.push(deadLetter),
    });
    await bus.publisher.publish(envelopeToMessage(event(1)));
    await waitFor(() => deadLetters.length === 1);
    await subscription.stop();
    expect(calls).toBe(0);
    expect(deadLetters[0]?.error?.code).toBe("store.unavailable");
  });

  it("reports a handler that outlived its lease but still acks", async () => {
    const clock = new ManualClock(0);
    dedupe = createMemoryDedupeStore({ clock });
    const errors: string[] = [];
    const handler = inboxHandler(() => clock.advance(2000), {
      consumer: "worker",
      dedupe,
      leaseMs: 1000,
      onError: (error) => void errors.push(error.code),
    });
    const outcome = await handler(envelopeToMessage(event(1)), {
      deliveryCount: 1,
      redelivered: false,
      maxDeliver: 5,
    });
    expect(outcome).toEqual({ action: "ack" });
    expect(errors).toEqual(["dedupe.lease_lost"]);
  });

  it("rejects a consumer name the inbox cannot key", () => {
    expect(() =>
      inboxHandler(() => {}, { consumer: "a:b", dedupe: createMemoryDedupeStore() }),
    ).toThrow(expect.objectContaining({ code: "inbox.invalid_key" }));
  });
});
