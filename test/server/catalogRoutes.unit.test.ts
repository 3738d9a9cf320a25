// The self-filling catalogue through the service (SQLite, in-process over real sockets): types
// dispatched (POST /v1/messages) and received (POST /webhooks/:source) appear in
// GET /v1/event-types as `auto` with their sightings; with `closedCatalog` both routes refuse a
// type the catalogue does not list (400 event_type.unknown) and accept the declared ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { api, type HttpResult, send } from "../helpers/e2eHttp.js";
import { startLocalService } from "../helpers/localService.js";

const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;

/** An answer, its JSON read field by field. */
// biome-ignore lint/suspicious/noExplicitAny: the tests walk the answers' JSON as they please.
type Answer = { status: number; json: any };

/** A service (catalogue open or closed) with a source `shop` whose type is in the body. */
function onService(closedCatalog: boolean) {
  const t = {} as {
    call(method: string, path: string, body?: unknown): Promise<Answer>;
    /** A signed webhook to `shop` of type `type`. */
    webhook(type: string, id: string): Promise<Answer>;
    stop(): Promise<void>;
  };
  beforeAll(async () => {
    const local = await startLocalService({ closedCatalog });
    t.stop = local.stop;
    const answer = ({ status, json }: HttpResult): Answer => ({ status, json });
    t.call = async (method, path, body) => answer(await api(local.url, method, path, body));
    t.webhook = async (type, id) => {
      const body = JSON.stringify({ type, n: 1 });
      const headers = signWebhook({ scheme: "standard", secret, body, id });
      return answer(
        await send(`${local.url}/webhooks/shop`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        }),
      );
    };
    const source = {
      name: "shop",
      scheme: "standard",
      secrets: [secret],
      type_from: { body: "type" },
    };
    expect((await t.call("POST", "/v1/sources", source)).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop?.();
  });
  return t;
}

describe("the catalogue fills itself", () => {
  const open = onService(false);

  it("lists dispatched and received types as auto, with first/last seen and count", async () => {
    const before = Date.now();
    const sent = await open.call("POST", "/v1/messages", { type: "order.created.v1", payload: {} });
    expect(sent.status).toBe(202);
    expect(
      await open.call("POST", "/v1/messages", { type: "order.created.v1", payload: {} }),
    ).toMatchObject({ status: 202 });
    expect(await open.webhook("paid", "msg_1")).toMatchObject({ status: 202 });
    // The same webhook again is a duplicate: not counted.
    expect(await open.webhook("paid", "msg_1")).toMatchObject({ status: 200 });
    const { status, json } = await open.call("GET", "/v1/event-types");
    expect(status).toBe(200);
    expect(json.data.map((e: { name: string }) => e.name)).toEqual([
      "order.created.v1",
      "shop.paid",
    ]);
    const order = json.data[0];
    expect(order).toEqual({
      name: "order.created.v1",
      description: "",
      schema: null,
      deprecated: false,
      auto: true,
      first_seen_at: expect.any(String),
      last_seen_at: expect.any(String),
      count: 2,
      created_at: order.first_seen_at,
      updated_at: order.first_seen_at,
    });
    expect(Date.parse(order.first_seen_at)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(order.last_seen_at)).toBeGreaterThanOrEqual(Date.parse(order.first_seen_at));
    expect(json.data[1]).toMatchObject({ name: "shop.paid", auto: true, count: 1 });
    expect((await open.call("GET", "/v1/event-types/shop.paid")).json).toEqual(json.data[1]);
  });

  it("declaring a recorded type makes it declared and keeps its counts", async () => {
    const declared = await open.call("POST", "/v1/event-types", {
      name: "shop.paid",
      description: "A payment",
    });
    // It existed (recorded): replaced, 200.
    expect(declared).toMatchObject({
      status: 200,
      json: { name: "shop.paid", description: "A payment", auto: false, count: 1 },
    });
    expect(declared.json.first_seen_at).toEqual(expect.any(String));
    expect(await open.webhook("paid", "msg_2")).toMatchObject({ status: 202 });
    expect((await open.call("GET", "/v1/event-types/shop.paid")).json).toMatchObject({
      description: "A payment",
      auto: false,
      count: 2,
    });
  });

  it("documents the new fields in /openapi.json", async () => {
    const { json } = await open.call("GET", "/openapi.json");
    const list = json.paths["/v1/event-types"].get.responses["200"].content["application/json"];
    const item = list.schema.properties.data.items;
    const shape =
      item.$ref === undefined ? item : json.components.schemas[item.$ref.split("/").pop()];
    expect(Object.keys(shape.properties)).toEqual(
      expect.arrayContaining(["auto", "first_seen_at", "last_seen_at", "count"]),
    );
    expect(shape.required).toEqual(
      expect.arrayContaining(["auto", "first_seen_at", "last_seen_at", "count"]),
    );
  });
});

describe("a closed catalogue", () => {
  const closed = onService(true);

  it("refuses unknown types at dispatch and ingestion, stores nothing, and takes declared ones", async () => {
    const refused = await closed.call("POST", "/v1/messages", {
      type: "order.created.v1",
      payload: {},
    });
    expect(refused).toMatchObject({ status: 400, json: { error: { code: "event_type.unknown" } } });
    const received = await closed.webhook("paid", "msg_1");
    expect(received).toMatchObject({
      status: 400,
      json: { error: { code: "event_type.unknown" } },
    });
    expect((await closed.call("GET", "/v1/event-types")).json.data).toEqual([]);
    expect((await closed.call("GET", "/v1/deliveries")).json.data).toEqual([]);

    // Declared through the API: accepted at once (the gate forgets its list), and counted.
    for (const name of ["order.created.v1", "shop.paid"]) {
      expect((await closed.call("POST", "/v1/event-types", { name })).status).toBe(201);
    }
    expect(
      await closed.call("POST", "/v1/messages", { type: "order.created.v1", payload: {} }),
    ).toMatchObject({ status: 202 });
    expect(await closed.webhook("paid", "msg_1")).toMatchObject({ status: 202 });
    expect((await closed.call("GET", "/v1/event-types")).json.data).toMatchObject([
      { name: "order.created.v1", auto: false, count: 1 },
      { name: "shop.paid", auto: false, count: 1 },
    ]);

    // Deleted: refused again.
    expect((await closed.call("DELETE", "/v1/event-types/shop.paid")).status).toBe(204);
    expect(await closed.webhook("paid", "msg_2")).toMatchObject({
      status: 400,
      json: { error: { code: "event_type.unknown" } },
    });
  });
});
