// The inbox facade over the reference (memory) store: keys, per-consumer claims, pruning.
import { describe, expect, it } from "vitest";
import { createInbox, inboxKey } from "../../packages/core/src/bus/inbox.js";
import type { DedupeStore } from "../../packages/core/src/store/ports.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { createMemoryDedupeStore } from "../../packages/webhooks/src/store/memory/dedupeStore.js";

const eventId = "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11";

describe("inboxKey", () => {
  it("namespaces the event id by consumer", () => {
    expect(inboxKey("billing", eventId)).toBe(`inbox:billing:${eventId}`);
    expect(inboxKey("billing", "a:b")).toBe("inbox:billing:a:b");
  });

  it.each([
    ["", "empty"],
    ["a:b", "a colon would make keys ambiguous"],
    ["a b", "whitespace"],
    ["a\nb", "control character"],
    ["x".repeat(201), "too long"],
  ])("refuses consumer %j (%s)", (consumer) => {
    expect(() => inboxKey(consumer, eventId)).toThrow(
      expect.objectContaining({ code: "inbox.invalid_key" }),
    );
  });

  it("refuses an empty event id", () => {
    expect(() => inboxKey("billing", "")).toThrow(HeraldError);
  });
});

describe("createInbox", () => {
  it("claims once per consumer, completes, releases and prunes", async () => {
    const clock = new ManualClock(0);
    const inbox = createInbox(createMemoryDedupeStore({ clock }));
    const a = await inbox.claim("billing", eventId, 1_000);
    const b = await inbox.claim("shipping", eventId, 1_000);
    if (!a.claimed || !b.claimed) throw new Error("expected both consumers to claim");
    expect(await inbox.claim("billing", eventId, 1_000)).toEqual({
      claimed: false,
      state: "processing",
    });
    expect(await inbox.complete("billing", eventId, a.token, 5_000)).toBe(true);
    await inbox.release("shipping", eventId, b.token);
    expect((await inbox.claim("shipping", eventId, 1_000)).claimed).toBe(true);
    clock.advance(1_000);
    expect(await inbox.prune()).toBe(1);
    clock.advance(4_000);
    expect(await inbox.prune()).toBe(1);
    expect((await inbox.claim("billing", eventId, 1_000)).claimed).toBe(true);
  });

  it("prunes nothing on a store that expires keys itself", async () => {
    const store: DedupeStore = createMemoryDedupeStore();
    const selfExpiring: DedupeStore = {
      claim: store.claim,
      complete: store.complete,
      release: store.release,
    };
    expect(await createInbox(selfExpiring).prune()).toBe(0);
  });
});
