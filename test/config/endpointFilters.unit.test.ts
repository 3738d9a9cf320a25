// Endpoint filters in herald.yaml: a filter is loaded as the endpoint's, applied to the store
// (changed, kept and removed with the file), and a bad one is config.invalid naming the file,
// line:column and the filter's path (in the config's own path notation: `["$gte"]`).
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { applyConfig, loadConfig } from "../../packages/server/src/config/index.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const endpoint = (filter: string) =>
  `endpoints:\n  - id: big-orders\n    url: https://x.example\n    event_types: [order.*]\n${filter}`;

describe("herald.yaml endpoint filters", () => {
  it("loads a filter, applies it, changes it, and removes it with the file's key", async () => {
    const store = createMemoryDeliveryStore();
    const withFilter = endpoint(
      '    filter:\n      payload:\n        total: { $gte: 100 }\n      headers:\n        x-shop: { $startsWith: "shop-" }\n',
    );
    const config = await loadConfig({ cwd: configDir(withFilter), env: {} });
    expect(config.endpoints[0]?.input.filter).toEqual({
      payload: { total: { $gte: 100 } },
      headers: { "x-shop": { $startsWith: "shop-" } },
    });
    await applyConfig(store, config);
    expect((await store.getEndpoint("big-orders"))?.filter?.json).toEqual({
      payload: { total: { $gte: 100 } },
      headers: { "x-shop": { $startsWith: "shop-" } },
    });
    // The same file again writes nothing.
    expect((await applyConfig(store, config)).endpoints).toEqual({ created: 0, updated: 0 });
    const changed = await loadConfig({
      cwd: configDir(endpoint("    filter:\n      payload: { total: 1 }\n")),
      env: {},
    });
    expect((await applyConfig(store, changed)).endpoints).toEqual({ created: 0, updated: 1 });
    expect((await store.getEndpoint("big-orders"))?.filter?.json).toEqual({
      payload: { total: 1 },
    });
    const removed = await loadConfig({ cwd: configDir(endpoint("")), env: {} });
    expect((await applyConfig(store, removed)).endpoints).toEqual({ created: 0, updated: 1 });
    expect((await store.getEndpoint("big-orders"))?.filter).toBeNull();
  });

  const cases: [string, string, string][] = [
    [
      "an operator with an operand of the wrong type",
      "    filter:\n      payload:\n        total:\n          $gte: [100]\n",
      'herald.yaml:8:11: endpoints[0].filter.payload.total["$gte"]: must be a number or string',
    ],
    [
      "an unknown operator under a field with a dash",
      "    filter:\n      headers:\n        x-shop:\n          $regex: shop\n",
      'herald.yaml:8:11: endpoints[0].filter.headers["x-shop"]["$regex"]: is not an operator (operators: $eq $neq $gt $gte $lt $lte $in $nin $exist $startsWith $endsWith $or $and $not)',
    ],
    [
      "an unknown top-level key",
      "    filter:\n      body: { a: 1 }\n",
      "herald.yaml:6:7: endpoints[0].filter.body: is not payload, headers, $and, $or or $not",
    ],
    [
      "an empty $or",
      "    filter:\n      payload:\n        $or: []\n",
      'herald.yaml:7:9: endpoints[0].filter.payload["$or"]: must be a non-empty array of conditions',
    ],
  ];

  it.each(cases)("refuses %s at its file:line", async (_name, filter, message) => {
    const error = await rejection(loadConfig({ cwd: configDir(endpoint(filter)), env: {} }));
    expect(error.code).toBe("config.invalid");
    expect(error.message).toBe(message);
  });
});
