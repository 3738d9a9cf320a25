// The headers endpoints' filters see: the dispatcher's `headers` option (names lowercased,
// checked like any header map, own properties only) and ingestion's request headers
// (filterHeaders: lowercase names, repeated values joined).
import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { FilterJson } from "../../packages/core/src/model/endpointFilter.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { filterHeaders } from "../../packages/server/src/server/ingest/ingestBatches.js";

async function setup(filter: FilterJson) {
  const store = createMemoryDeliveryStore();
  const endpoint = await store.createEndpoint({
    target: "https://receiver.example/hooks",
    eventTypes: ["*"],
    filter,
  });
  return { store, endpoint, dispatcher: createDispatcher({ store }) };
}

describe("dispatch headers for filters", () => {
  it("lowercases names, so a filter names headers in lowercase", async () => {
    const { dispatcher, endpoint } = await setup({ headers: { "x-shop": "shop-1" } });
    const send = (headers?: Record<string, string>) =>
      dispatcher.dispatch({
        type: "a.b",
        payload: {},
        ...(headers === undefined ? {} : { headers }),
      });
    expect((await send({ "X-Shop": "shop-1" })).deliveries).toBe(1);
    expect((await send({ "x-shop": "shop-2" })).filteredEndpointIds).toEqual([endpoint.id]);
    expect((await send()).filteredEndpointIds).toEqual([endpoint.id]);
  });

  it("reads own headers only: a header named constructor is just a header", async () => {
    const { dispatcher } = await setup({ headers: { constructor: { $exist: true } } });
    expect((await dispatcher.dispatch({ type: "a.b", payload: {} })).deliveries).toBe(0);
    const named = await dispatcher.dispatch({
      type: "a.b",
      payload: {},
      headers: { Constructor: "x" },
    });
    expect(named.deliveries).toBe(1);
  });

  it("refuses headers that are not a header map with message.invalid, storing nothing", async () => {
    const { dispatcher, store } = await setup({ payload: { $exist: true } });
    for (const headers of [["x"], { "x-a": "a\r\nb" }, { "x-a": 1 }, { "bad name": "x" }]) {
      const error = await dispatcher
        .dispatch({ type: "a.b", payload: {}, headers: headers as never })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "message.invalid" });
    }
    expect((await store.listDeliveries()).data).toEqual([]);
  });
});

describe("filterHeaders (ingestion)", () => {
  it("lowercases names, joins repeated values, drops absent ones, and keeps odd names", () => {
    const headers = filterHeaders({
      "X-Shop": "shop-1",
      "set-cookie": ["a=1", "b=2"],
      "x-none": undefined,
      constructor: "c",
    });
    expect({ ...headers }).toEqual({
      "x-shop": "shop-1",
      "set-cookie": "a=1, b=2",
      constructor: "c",
    });
    expect(Object.getPrototypeOf(headers)).toBeNull();
  });
});
