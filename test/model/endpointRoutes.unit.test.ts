// Routing by index: the indexed router picks exactly the endpoints a linear match of every
// pattern picks, in the same order, for exact, prefix, "*" and inner-"*" patterns (a property
// test against matchesType); the per-tenant cache lists the endpoints once per store version,
// sees every change that moves the version, shares one listing among concurrent messages and
// bounds the tenants it keeps. SQLite's triggers move the version on the writes that count.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesType } from "../../packages/core/src/core/typePattern.js";
import type { EndpointListOptions } from "../../packages/core/src/model/deliveryOperations.js";
import type { EndpointRecord } from "../../packages/core/src/model/deliveryRecords.js";
import {
  createEndpointRoutes,
  type EndpointSource,
} from "../../packages/core/src/model/endpointRoutes.js";
import { createEndpointRouter } from "../../packages/core/src/model/routing.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";

const target = "http://127.0.0.1:9/hook";

async function endpointsWith(patterns: readonly (readonly string[])[]): Promise<EndpointRecord[]> {
  const store = createMemoryDeliveryStore();
  for (const [i, eventTypes] of patterns.entries()) {
    await store.createEndpoint({ id: `ep_${i}`, target, eventTypes: [...eventTypes] });
  }
  return (await store.listEndpoints({ limit: 1000 })).data;
}

const ids = (endpoints: readonly EndpointRecord[]) => endpoints.map((e) => e.id);

describe("createEndpointRouter", () => {
  it("finds exact, prefix, catch-all and inner-star patterns, oldest first, each once", async () => {
    const endpoints = await endpointsWith([
      ["order.created"],
      ["order.*"],
      ["*"],
      ["*.created"],
      ["invoice.paid", "order.created", "order.*"],
      ["order.created.*"],
      ["order.created", "order.created"],
    ]);
    const router = createEndpointRouter(endpoints);
    expect(ids(router.match("order.created"))).toEqual([
      "ep_0",
      "ep_1",
      "ep_2",
      "ep_3",
      "ep_4",
      "ep_6",
    ]);
    expect(ids(router.match("order.created.v1"))).toEqual(["ep_1", "ep_2", "ep_4", "ep_5"]);
    expect(ids(router.match("invoice.paid"))).toEqual(["ep_2", "ep_4"]);
    expect(ids(router.match("order"))).toEqual(["ep_2"]);
    for (const malformed of ["", ".order", "order.", "order..created"]) {
      expect(router.match(malformed)).toEqual([]);
    }
  });

  it("applies filters to the matched endpoints only", async () => {
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({
      id: "a",
      target,
      eventTypes: ["x.*"],
      filter: { payload: { n: 1 } },
    });
    await store.createEndpoint({ id: "b", target, eventTypes: ["x.y"] });
    await store.createEndpoint({ id: "c", target, eventTypes: ["z"] });
    const router = createEndpointRouter((await store.listEndpoints({})).data);
    const route = router.route("x.y", { payload: { n: 2 }, headers: {} });
    expect(ids(route.deliver)).toEqual(["b"]);
    expect(ids(route.filtered)).toEqual(["a"]);
  });

  it("matches what every pattern tested one by one matches (property)", async () => {
    const segment = fc.constantFrom("a", "b", "c");
    const pattern = fc
      .array(fc.oneof(segment, fc.constant("*")), { minLength: 1, maxLength: 3 })
      .map((parts) => parts.join("."));
    const type = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join("."));
    const lists = fc.array(fc.array(pattern, { minLength: 1, maxLength: 3 }), {
      minLength: 1,
      maxLength: 8,
    });
    await fc.assert(
      fc.asyncProperty(lists, fc.array(type, { minLength: 1, maxLength: 5 }), async (p, types) => {
        const endpoints = await endpointsWith(p);
        const router = createEndpointRouter(endpoints);
        for (const t of types) {
          const linear = endpoints.filter((e) => matchesType(e.eventTypes, t));
          expect(ids(router.match(t))).toEqual(ids(linear));
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** The memory store's endpoints with a version the test moves, counting the listings. */
function versioned() {
  const store = createMemoryDeliveryStore();
  const state = { version: 0, lists: 0 };
  const source: EndpointSource = {
    listEndpoints(options: EndpointListOptions) {
      state.lists++;
      return store.listEndpoints(options);
    },
    endpointsVersion: async () => state.version,
  };
  return { store, state, source };
}

describe("createEndpointRoutes", () => {
  it("lists a tenant's endpoints once per version and sees every change that moves it", async () => {
    const { store, state, source } = versioned();
    await store.createEndpoint({ id: "a", target, eventTypes: ["x.*"] });
    const routes = createEndpointRoutes(source);
    for (let i = 0; i < 3; i++)
      expect(ids((await routes.router("default")).match("x.y"))).toEqual(["a"]);
    expect(state.lists).toBe(1);
    await store.createEndpoint({ id: "b", target, eventTypes: ["x.y"] });
    // Same version: the cached router (a store without triggers; the SQL stores move it).
    expect(ids((await routes.router("default")).match("x.y"))).toEqual(["a"]);
    state.version++;
    expect(ids((await routes.router("default")).match("x.y"))).toEqual(["a", "b"]);
    await store.setEndpointEnabled("a", false);
    state.version++;
    expect(ids((await routes.router("default")).match("x.y"))).toEqual(["b"]);
    expect(state.lists).toBe(3);
  });

  it("keeps tenants apart and shares one listing among concurrent messages", async () => {
    const { store, state, source } = versioned();
    await store.createEndpoint({ id: "a", target, eventTypes: ["x.y"], tenant: "t1" });
    await store.createEndpoint({ id: "b", target, eventTypes: ["x.y"], tenant: "t2" });
    const routes = createEndpointRoutes(source);
    const routers = await Promise.all(
      ["t1", "t2", "t1", "t2", "t1"].map((tenant) => routes.router(tenant)),
    );
    expect(routers.map((r) => ids(r.match("x.y")))).toEqual([["a"], ["b"], ["a"], ["b"], ["a"]]);
    expect(state.lists).toBe(2);
  });

  it("drops the least recently routed tenant beyond maxTenants", async () => {
    const { state, source } = versioned();
    const routes = createEndpointRoutes(source, { maxTenants: 2 });
    for (const tenant of ["t1", "t2", "t1", "t3", "t1", "t2"]) await routes.router(tenant);
    // t1 t2 listed, t1 hit, t3 listed (drops t2), t1 hit, t2 listed again.
    expect(state.lists).toBe(4);
  });

  it("does not keep a failed listing", async () => {
    const { store, state, source } = versioned();
    await store.createEndpoint({ id: "a", target, eventTypes: ["x.y"] });
    let fail = true;
    const routes = createEndpointRoutes({
      ...source,
      listEndpoints: (options) =>
        fail ? Promise.reject(new Error("down")) : source.listEndpoints(options),
    });
    await expect(routes.router("default")).rejects.toThrow("down");
    fail = false;
    expect(ids((await routes.router("default")).match("x.y"))).toEqual(["a"]);
    expect(state.lists).toBe(1);
  });

  it("lists for every message when the store keeps no version", async () => {
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({ id: "a", target, eventTypes: ["x.y"] });
    const routes = createEndpointRoutes(store);
    expect(ids((await routes.router("default")).match("x.y"))).toEqual(["a"]);
    await store.deleteEndpoint("a");
    expect((await routes.router("default")).match("x.y")).toEqual([]);
  });
});

describe("SQLite endpoint versions (migration 013)", () => {
  it("move on the writes that change routing, per tenant, and not on failure runs", async () => {
    const db = openSqlite(":memory:");
    migrateSqlite(db);
    const store = createSqliteDeliveryStore(db);
    const version = store.endpointsVersion!;
    const seen: number[] = [];
    const step = async (write: () => unknown) => {
      const before = await version("default");
      await write();
      seen.push((await version("default")) - before);
    };
    expect(await version("default")).toBe(0);
    await step(() => store.createEndpoint({ id: "a", target, eventTypes: ["x.*"] }));
    await step(() => store.updateEndpoint("a", { eventTypes: ["x.y"] }));
    await step(() => store.updateEndpoint("a", { filter: { payload: { n: 1 } } }));
    await step(() => store.updateEndpoint("a", { retry: { schedule_s: [1] } }));
    await step(() => store.setEndpointEnabled("a", false, "test"));
    await step(() => store.setEndpointEnabled("a", true));
    // Not routing: the description, the failure run a worker records.
    await step(() => store.updateEndpoint("a", { description: "d" }));
    await step(() => db.prepare("UPDATE endpoints SET consecutive_failures = 3").run());
    await step(() => store.createEndpoint({ id: "b", target, eventTypes: ["x.*"], tenant: "t2" }));
    await step(() => store.deleteEndpoint("a"));
    expect(seen).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 1]);
    expect(await version("t2")).toBe(1);
    db.close();
  });
});
