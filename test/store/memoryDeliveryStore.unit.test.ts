// The memory DeliveryStore: the shared contract, plus isolation of the records it hands out.
import { describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { testDeliveryStore } from "../contracts/deliveryStore.js";

testDeliveryStore("memory", async (clock) => {
  const store = createMemoryDeliveryStore({ clock });
  return { store, connect: async () => store, close: () => store.close() };
});

describe("memory DeliveryStore", () => {
  it("hands out copies: changing a returned record changes nothing stored", async () => {
    const store = createMemoryDeliveryStore();
    const endpoint = await store.createEndpoint({ target: "https://x.example", eventTypes: ["*"] });
    endpoint.eventTypes.push("mutated");
    endpoint.headers.injected = "yes";
    const stored = await store.getEndpoint(endpoint.id);
    expect(stored?.eventTypes).toEqual(["*"]);
    expect(stored?.headers).toEqual({});
  });
});
