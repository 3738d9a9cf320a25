// The closed catalogue's ingestion gate: one read of the catalogue per `ttlMs` however many
// webhooks, refusals as event_type.unknown, a forgotten list after invalidate, and a failed read
// that is not kept.
import { describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createCatalogGate } from "../../packages/server/src/server/ingest/closedCatalog.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";

function countingStore() {
  const store = createMemoryDeliveryStore();
  const state = { reads: 0, fail: false };
  const listEventTypes = async () => {
    state.reads += 1;
    if (state.fail) throw new HeraldError("store.unavailable", "down");
    return store.listEventTypes();
  };
  return { store, state, reader: { listEventTypes } };
}

describe("closed catalogue gate", () => {
  it("admits listed types and refuses others, reading the catalogue once per ttl", async () => {
    const { store, state, reader } = countingStore();
    await store.upsertEventType({ name: "shop.paid" });
    let now = 0;
    const gate = createCatalogGate(reader, { ttlMs: 1000, now: () => now });
    await Promise.all(Array.from({ length: 20 }, () => gate.admit("shop.paid")));
    await expect(gate.admit("shop.refunded")).rejects.toMatchObject({
      code: "event_type.unknown",
      details: { type: "shop.refunded" },
    });
    expect(state.reads).toBe(1);
    // Declared elsewhere: seen once the list expires.
    await store.upsertEventType({ name: "shop.refunded" });
    now = 999;
    await expect(gate.admit("shop.refunded")).rejects.toMatchObject({
      code: "event_type.unknown",
    });
    now = 1000;
    await gate.admit("shop.refunded");
    expect(state.reads).toBe(2);
  });

  it("reads again after invalidate", async () => {
    const { store, state, reader } = countingStore();
    const gate = createCatalogGate(reader, { now: () => 0 });
    await expect(gate.admit("shop.paid")).rejects.toMatchObject({ code: "event_type.unknown" });
    await store.upsertEventType({ name: "shop.paid" });
    gate.invalidate();
    await gate.admit("shop.paid");
    expect(state.reads).toBe(2);
  });

  it("rejects as the store did, and does not keep a failed read", async () => {
    const { store, state, reader } = countingStore();
    await store.upsertEventType({ name: "shop.paid" });
    const gate = createCatalogGate(reader, { now: () => 0 });
    state.fail = true;
    await expect(gate.admit("shop.paid")).rejects.toMatchObject({ code: "store.unavailable" });
    state.fail = false;
    await gate.admit("shop.paid");
    expect(state.reads).toBe(2);
  });
});
