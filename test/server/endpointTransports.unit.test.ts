// The service refuses, at creation, an endpoint it cannot deliver to (400 with a stable code)
// instead of dead-lettering its deliveries later; what it can deliver to — the built-in
// `simulate` and the functions it was given — is delivered. startService in process, on SQLite.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionDeliveryContext } from "../../packages/core/src/delivery/transports/function.js";
import type { MessageRecord } from "../../packages/core/src/model/deliveryRecords.js";
import { buildServiceTransports } from "../../packages/server/src/config/serviceTransports.js";
import { type RunningService, startService } from "../../packages/server/src/server/service.js";
import { api, waitUntil } from "../helpers/e2eHttp.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

const file = tempSqlitePath();
let service: RunningService;
let base: string;
const calls: Array<{ message: MessageRecord; context: FunctionDeliveryContext }> = [];

/** A management API call; `json` is the parsed answer. */
async function call(method: string, path: string, body?: unknown) {
  const result = await api(base, method, path, body);
  return { status: result.status, json: result.text === "" ? undefined : JSON.parse(result.text) };
}

beforeAll(async () => {
  const transports = await buildServiceTransports(
    {
      file: null,
      nats: null,
      endpoints: [],
      functions: {
        module: "/app/functions.mjs",
        functions: new Map([
          [
            "record",
            (message: MessageRecord, context: FunctionDeliveryContext) => {
              calls.push({ message, context });
              return { recorded: message.id };
            },
          ],
        ]),
      },
    },
    { ssrfAllow: [] },
  );
  service = await startService({
    database: { dialect: "sqlite", path: file.path },
    http: true,
    worker: true,
    host: "127.0.0.1",
    port: 0,
    apiKey: null,
    pollIntervalMs: 20,
    logger: pino({ level: "silent" }),
    version: "test",
    transports,
  });
  base = service.url as string;
});

afterAll(async () => {
  await service?.stop();
  file.cleanup();
});

const endpoint = (transport: string, url: string, types = ["t.*"]) => ({
  url,
  transport,
  event_types: types,
  retry: { schedule_s: [0.05, 0.05, 0.05, 0.05] },
});

describe("endpoints this service cannot deliver to", () => {
  it("refuses a nats endpoint without NATS configured: 400 transport.unavailable", async () => {
    const created = await call("POST", "/v1/endpoints", endpoint("nats", "orders.created"));
    expect(created).toMatchObject({
      status: 400,
      json: {
        error: {
          code: "transport.unavailable",
          message: expect.stringContaining("no NATS configured"),
        },
      },
    });
    expect((await call("GET", "/v1/endpoints")).json.data).toEqual([]);
  });

  it("refuses a function that does not exist: 400 function.unknown, naming those that do", async () => {
    expect(await call("POST", "/v1/endpoints", endpoint("function", "nope"))).toMatchObject({
      status: 400,
      json: {
        error: {
          code: "function.unknown",
          message: 'url: no function "nope" in this Herald (functions: "record", "simulate")',
        },
      },
    });
  });

  it("refuses an update to a transport or function it cannot serve, and 404s an unknown id", async () => {
    const created = await call("POST", "/v1/endpoints", endpoint("function", "record", ["u.*"]));
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(await call("PATCH", `/v1/endpoints/${id}`, { url: "gone" })).toMatchObject({
      status: 400,
      json: { error: { code: "function.unknown" } },
    });
    expect(
      await call("PATCH", `/v1/endpoints/${id}`, { transport: "nats", url: "a.b" }),
    ).toMatchObject({ status: 400, json: { error: { code: "transport.unavailable" } } });
    expect((await call("GET", `/v1/endpoints/${id}`)).json).toMatchObject({
      transport: "function",
      target: "record",
    });
    expect(await call("PATCH", `/v1/endpoints/${id}`, { url: "simulate" })).toMatchObject({
      status: 200,
      json: { target: "simulate" },
    });
    expect(await call("PATCH", "/v1/endpoints/ep_missing", { url: "simulate" })).toMatchObject({
      status: 404,
    });
    expect((await call("DELETE", `/v1/endpoints/${id}`)).status).toBe(204);
  });
});

describe("endpoints it can deliver to", () => {
  it("calls a given function with the message and the attempt's context", async () => {
    const created = await call("POST", "/v1/endpoints", endpoint("function", "record", ["fn.*"]));
    expect(created.status).toBe(201);
    const sent = await call("POST", "/v1/messages", { type: "fn.created", payload: { n: 1 } });
    expect(sent.status).toBe(202);
    const messageId = sent.json.message_id as string;
    await waitUntil(
      () => calls.some((c) => c.message.id === messageId),
      10_000,
      () => "the function was not called",
    );
    const seen = calls.find((c) => c.message.id === messageId);
    expect(seen?.message.payload).toEqual({ n: 1 });
    expect(seen?.context).toMatchObject({
      endpointId: created.json.id,
      attempt: 1,
      maxAttempts: 5,
    });
  });

  it("delivers to the built-in simulate: transient → delivered on attempt 3, failure → dead-lettered at max attempts", async () => {
    expect(
      (await call("POST", "/v1/endpoints", endpoint("function", "simulate", ["sim.*"]))).status,
    ).toBe(201);
    const transient = await call("POST", "/v1/messages", {
      type: "sim.transient",
      payload: { simulate_transient: true },
    });
    const failing = await call("POST", "/v1/messages", {
      type: "sim.failure",
      payload: { simulate_failure: true },
    });
    const finalOf = async (messageId: string) => {
      let delivery: { status?: string } | undefined;
      await waitUntil(
        async () => {
          delivery = (await call("GET", `/v1/messages/${messageId}`)).json.deliveries[0];
          return delivery?.status === "delivered" || delivery?.status === "dead_lettered";
        },
        10_000,
        () => `still ${JSON.stringify(delivery)}`,
        25,
      );
      return delivery;
    };
    expect(await finalOf(transient.json.message_id)).toMatchObject({
      status: "delivered",
      attempts: 3,
    });
    expect(await finalOf(failing.json.message_id)).toMatchObject({
      status: "dead_lettered",
      attempts: 5,
      max_attempts: 5,
    });
  });
});
