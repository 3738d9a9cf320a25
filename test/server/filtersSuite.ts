// Endpoint filters through the running service (startService, real sockets): the filter is set
// and shown by /v1/endpoints (400 filter.invalid naming the path), and a message of a matching
// type that the filter refuses — dispatched by POST /v1/messages or received by POST
// /webhooks/:source — gets no delivery and is shown as filtered by GET /v1/messages/:id. Run on
// SQLite (filters.unit) and PostgreSQL (filters.int).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseTarget } from "../../packages/server/src/store/openDatabase.js";
import { type LocalService, startLocalService } from "../helpers/localService.js";

export interface FiltersSuiteDatabase {
  target: DatabaseTarget;
  cleanup(): Promise<void>;
}

const FILTER = {
  payload: { total: { $gte: 100 }, currency: { $in: ["EUR", "USD"] } },
  headers: { "x-shop": { $startsWith: "shop-" } },
};

export function testFilters(name: string, open: () => Promise<FiltersSuiteDatabase>) {
  describe(`endpoint filters through the service on ${name}`, () => {
    let database: FiltersSuiteDatabase;
    let service: LocalService;

    async function call(method: string, path: string, body?: unknown) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
    }

    beforeAll(async () => {
      database = await open();
      service = await startLocalService({ database: database.target });
    });

    afterAll(async () => {
      await service?.stop();
      await database?.cleanup();
    });

    it("sets, shows, changes and clears an endpoint's filter", async () => {
      const created = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/hooks",
        event_types: ["shop.*"],
        filter: FILTER,
      });
      expect(created.status).toBe(201);
      expect(created.json.filter).toEqual(FILTER);
      const id = created.json.id as string;
      expect((await call("GET", `/v1/endpoints/${id}`)).json.filter).toEqual(FILTER);
      const listed = (await call("GET", "/v1/endpoints")).json.data as { id: string }[];
      expect(listed.find((e) => e.id === id)).toMatchObject({ filter: FILTER });
      const changed = await call("PATCH", `/v1/endpoints/${id}`, {
        filter: { payload: { total: 1 } },
      });
      expect(changed.status).toBe(200);
      expect(changed.json.filter).toEqual({ payload: { total: 1 } });
      const kept = await call("PATCH", `/v1/endpoints/${id}`, { description: "kept" });
      expect(kept.json.filter).toEqual({ payload: { total: 1 } });
      const cleared = await call("PATCH", `/v1/endpoints/${id}`, { filter: null });
      expect(cleared.json.filter).toBeNull();
      const plain = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/plain",
        event_types: ["shop.*"],
      });
      expect(plain.json.filter).toBeNull();
      await call("DELETE", `/v1/endpoints/${id}`);
      await call("DELETE", `/v1/endpoints/${plain.json.id}`);
    });

    it("refuses an invalid filter with 400 filter.invalid naming its path, storing nothing", async () => {
      const before = (await call("GET", "/v1/endpoints")).json.data.length as number;
      const bad = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/hooks",
        event_types: ["shop.*"],
        filter: { payload: { total: { $gte: [100] } } },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatchObject({
        code: "filter.invalid",
        message: "filter.payload.total.$gte: must be a number or string",
      });
      const unknown = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/hooks",
        event_types: ["shop.*"],
        filter: { body: { a: 1 } },
      });
      expect(unknown.json.error).toMatchObject({
        code: "filter.invalid",
        message: "filter.body: is not payload, headers, $and, $or or $not",
      });
      expect((await call("GET", "/v1/endpoints")).json.data).toHaveLength(before);
      const ok = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/hooks",
        event_types: ["shop.*"],
      });
      const patch = await call("PATCH", `/v1/endpoints/${ok.json.id}`, {
        filter: { payload: { $or: [] } },
      });
      expect(patch.status).toBe(400);
      expect(patch.json.error).toMatchObject({
        code: "filter.invalid",
        message: "filter.payload.$or: must be a non-empty array of conditions",
      });
      expect((await call("GET", `/v1/endpoints/${ok.json.id}`)).json.filter).toBeNull();
      await call("DELETE", `/v1/endpoints/${ok.json.id}`);
    });

    it("a dispatched message the filter refuses gets no delivery and shows as filtered", async () => {
      const filtered = await call("POST", "/v1/endpoints", {
        tenant: "acme",
        url: "https://receiver.example/big",
        event_types: ["order.*"],
        filter: FILTER,
      });
      const all = await call("POST", "/v1/endpoints", {
        tenant: "acme",
        url: "https://receiver.example/all",
        event_types: ["order.*"],
      });
      const send = (payload: unknown, headers?: Record<string, string>) =>
        call("POST", "/v1/messages", {
          tenant: "acme",
          type: "order.created.v1",
          payload,
          ...(headers === undefined ? {} : { headers }),
        });
      const big = await send({ total: 150, currency: "EUR" }, { "X-Shop": "shop-7" });
      expect(big.json.deliveries).toBe(2);
      const small = await send({ total: 50, currency: "EUR" }, { "x-shop": "shop-7" });
      expect(small.json.deliveries).toBe(1);
      const noHeader = await send({ total: 150, currency: "EUR" });
      expect(noHeader.json.deliveries).toBe(1);

      const shown = await call("GET", `/v1/messages/${small.json.message_id}`);
      expect(shown.status).toBe(200);
      expect(shown.json.deliveries.map((d: { endpoint_id: string }) => d.endpoint_id)).toEqual([
        all.json.id,
      ]);
      expect(shown.json.filtered).toEqual([
        { endpoint_id: filtered.json.id, outcome: "filtered", at: shown.json.created_at },
      ]);
      const passed = await call("GET", `/v1/messages/${big.json.message_id}`);
      expect(passed.json.filtered).toEqual([]);
      expect(passed.json.deliveries).toHaveLength(2);
      // The deliveries of a message: none for the filtered endpoint.
      const deliveries = await call("GET", `/v1/deliveries?message=${small.json.message_id}`);
      expect(deliveries.json.data.map((d: { endpoint_id: string }) => d.endpoint_id)).toEqual([
        all.json.id,
      ]);
      await call("DELETE", `/v1/endpoints/${all.json.id}`);
      const alone = await send({ total: 5 });
      expect(alone.json.deliveries).toBe(0);
      const none = await call("GET", `/v1/messages/${alone.json.message_id}`);
      expect(none.json).toMatchObject({
        status: "no_endpoints",
        deliveries: [],
        filtered: [{ endpoint_id: filtered.json.id, outcome: "filtered" }],
      });
      expect(none.json.status_description).toMatch(/filtered it out/);
      await call("DELETE", `/v1/endpoints/${filtered.json.id}`);
    });

    it("an inbound webhook is filtered on its payload and its request headers", async () => {
      const token = "tok_filters_suite_0123456789";
      await call("POST", "/v1/sources", {
        name: "shop",
        scheme: "token",
        secrets: [token],
        type_from: { body: "kind" },
      });
      const endpoint = await call("POST", "/v1/endpoints", {
        url: "https://receiver.example/shop",
        event_types: ["shop.*"],
        filter: { payload: { total: { $gt: 10 } }, headers: { "x-shop": "shop-1" } },
      });
      const post = (body: unknown, headers: Record<string, string>) =>
        fetch(`${service.url}/webhooks/shop`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            ...headers,
          },
          body: JSON.stringify(body),
        }).then(async (r) => ({
          status: r.status,
          json: (await r.json()) as { message_id: string },
        }));
      const passes = await post({ kind: "order", total: 11 }, { "X-Shop": "shop-1" });
      const wrongHeader = await post({ kind: "order", total: 12 }, { "X-Shop": "shop-2" });
      const tooSmall = await post({ kind: "order", total: 10 }, { "X-Shop": "shop-1" });
      for (const r of [passes, wrongHeader, tooSmall]) expect(r.status).toBe(202);
      const message = async (r: { json: { message_id: string } }) =>
        (await call("GET", `/v1/messages/${r.json.message_id}`)).json;
      expect(await message(passes)).toMatchObject({
        type: "shop.order",
        deliveries: [{ endpoint_id: endpoint.json.id }],
        filtered: [],
      });
      for (const refused of [wrongHeader, tooSmall]) {
        expect(await message(refused)).toMatchObject({
          deliveries: [],
          filtered: [{ endpoint_id: endpoint.json.id, outcome: "filtered" }],
        });
      }
    });
  });
}
