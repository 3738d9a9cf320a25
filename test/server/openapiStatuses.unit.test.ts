// /openapi.json against what the routes answer: every operation is sent requests that succeed
// and requests that fail every way this test knows (no key, unknown id, bad query, bad body,
// wrong content type, oversized body, the database down), and every status it answers must be
// listed, by its exact code, in the operation's `responses`. A route that starts answering a
// status it does not document fails here, so generated clients never type a real error as
// impossible.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { buildApp } from "../../packages/server/src/server/app.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createServiceMetrics } from "../../packages/server/src/server/metrics.js";
import { systemClock } from "../../packages/webhooks/src/core/clock.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";

const API_KEY = "test-api-key";
const BODY_LIMIT = 16 * 1024;
const SECRET = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
const TOKEN = "tok_0123456789abcdef";

type App = Awaited<ReturnType<typeof buildApp>>;
interface Operation {
  responses: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

/** A store whose every call fails as an unreachable database does while `down` is set. */
function outageStore(store: DeliveryStore, state: { down: boolean }): DeliveryStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (state.down) {
          return Promise.reject(new HeraldError("store.unavailable", "connection refused"));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** `METHOD /path/{param}` → statuses answered. */
const observed = new Map<string, Set<number>>();
let app: App;
let paths: Paths;
const state = { down: false };
const ids: Record<string, string> = {};

function record(method: string, route: string, status: number) {
  const path = route.replace(/:([A-Za-z_]+)/g, "{$1}");
  const key = `${method} ${path}`;
  const set = observed.get(key) ?? new Set<number>();
  observed.set(key, set);
  set.add(status);
}

async function call(
  method: string,
  url: string,
  options: {
    body?: unknown;
    raw?: string;
    contentType?: string;
    auth?: boolean;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth !== false) headers.authorization = `Bearer ${API_KEY}`;
  let payload: string | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const response = await app.inject({
    method: method as "GET",
    url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, json: () => response.json() as Record<string, unknown> };
}

/** A valid request per operation, given the ids made in beforeAll. */
function examples(): Record<string, { body?: unknown; query?: string; status?: number }> {
  return {
    "GET /health": {},
    "GET /ready": {},
    "GET /metrics": {},
    "GET /v1/event-types": {},
    "POST /v1/event-types": { body: { name: "order.created", description: "x" } },
    "GET /v1/event-types/{name}": {},
    "DELETE /v1/event-types/{name}": {},
    "GET /v1/sources": {},
    "POST /v1/sources": { body: { name: "extra", scheme: "token", secrets: [TOKEN] } },
    "GET /v1/sources/{name}": {},
    "DELETE /v1/sources/{name}": {},
    "GET /v1/endpoints": { query: "?limit=10" },
    "POST /v1/endpoints": { body: { url: "https://example.com/in", event_types: ["order.*"] } },
    "GET /v1/endpoints/{id}": {},
    "PATCH /v1/endpoints/{id}": { body: { description: "patched" } },
    "DELETE /v1/endpoints/{id}": {},
    "POST /v1/endpoints/{id}/enable": {},
    "POST /v1/endpoints/{id}/disable": { body: { reason: "test" } },
    "POST /v1/endpoints/{id}/rotate-secret": { body: {} },
    "POST /v1/endpoints/{id}/recover": { body: { since: "2020-01-01T00:00:00Z" } },
    "POST /v1/messages": { body: { type: "order.created", payload: { id: 1 } } },
    "GET /v1/messages/{id}": {},
    "GET /v1/deliveries": { query: "?limit=10" },
    "GET /v1/deliveries/{id}": {},
    "POST /v1/deliveries/{id}/replay": {},
    "GET /v1/secrets": {},
    "POST /v1/secrets": { body: { name: "extra-secret" } },
    "GET /v1/secrets/{name}": {},
    "DELETE /v1/secrets/{name}": {},
    "POST /v1/secrets/{name}/rotate": { body: {} },
    "GET /v1/stream-tokens": {},
    "POST /v1/stream-tokens": { body: { event_types: ["order.*"] } },
    "DELETE /v1/stream-tokens/{id}": {},
    "GET /v1/nats-tokens": { query: "?identity=client&tenant=acme" },
    "POST /v1/nats-tokens": { body: { identity: "client", id: "user_1", tenant: "acme" } },
    "GET /v1/nats-tokens/{id}": {},
    "DELETE /v1/nats-tokens/{id}": {},
    // The stored events after the cursor, then the end (a live stream would never answer).
    "GET /v1/stream": { query: `?token=${ids.streamToken}&last_event_id=0&live=false` },
    // inject makes no upgrade: the plain GET is answered 426 once the token checks out.
    "GET /v1/stream/ws": { query: `?token=${ids.streamToken}`, status: 426 },
  };
}

/** The path with its parameters: an existing record's id, or one no record has. */
function fill(path: string, existing: boolean): string {
  return path.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => {
    if (!existing) return "does-not-exist";
    if (path.startsWith("/v1/event-types")) return ids.eventType ?? "";
    if (path.startsWith("/v1/sources")) return ids.source ?? "";
    if (path.startsWith("/v1/endpoints")) return ids.endpoint ?? "";
    if (path.startsWith("/v1/messages")) return ids.message ?? "";
    if (path.startsWith("/v1/deliveries")) return ids.delivery ?? "";
    if (path.startsWith("/v1/secrets")) return ids.secret ?? "";
    if (path.startsWith("/v1/stream-tokens")) return ids.streamTokenId ?? "";
    if (path.startsWith("/v1/nats-tokens")) return ids.natsTokenId ?? "";
    throw new Error(`no id for {${name}} in ${path}`);
  });
}

function signed(body: string, id: string) {
  return signWebhook({ scheme: "standard", secret: SECRET, body, id });
}

beforeAll(async () => {
  const store = outageStore(createMemoryDeliveryStore(), state);
  const sources = createSourceCache(store, { ttlMs: 0 });
  const committer = createIngestBatches({
    store,
    defaultRetry: DEFAULT_RETRY_POLICY,
    dialect: "sqlite",
  });
  const metrics = createServiceMetrics(store);
  const httpRequest = metrics.httpRequest.bind(metrics);
  metrics.httpRequest = (method, route, status, seconds) => {
    record(method, route, status);
    httpRequest(method, route, status, seconds);
  };
  app = await buildApp({
    store,
    metrics,
    logger: pino({ level: "silent" }),
    version: "0.0.0",
    apiKey: API_KEY,
    bodyLimitBytes: BODY_LIMIT,
    ingestor: createIngestor({ sources, committer }),
    dispatcher: createDispatcher({ store, clock: systemClock }),
    sources,
    clock: systemClock,
  });
  const doc = await app.inject({ method: "GET", url: "/openapi.json" });
  paths = (doc.json() as { paths: Paths }).paths;
});

afterAll(async () => {
  await app.close();
});

/** Makes one of everything, so operations on an existing record have one. */
async function seed() {
  expect((await call("POST", "/v1/event-types", { body: { name: "order.created" } })).status).toBe(
    201,
  );
  ids.eventType = "order.created";
  const source = await call("POST", "/v1/sources", {
    body: { name: "shop", scheme: "standard", secrets: [SECRET], type_from: { body: "type" } },
  });
  expect(source.status).toBe(201);
  ids.source = "shop";
  const endpoint = await call("POST", "/v1/endpoints", {
    body: { url: "https://example.com/hook", event_types: ["order.*"] },
  });
  expect(endpoint.status).toBe(201);
  ids.endpoint = endpoint.json().id as string;
  const message = await call("POST", "/v1/messages", {
    body: { type: "order.created", payload: { id: 1 } },
  });
  expect(message.status, JSON.stringify(message.json())).toBe(202);
  ids.message = message.json().message_id as string;
  const deliveries = await call("GET", `/v1/deliveries?message=${ids.message}`);
  const listed = deliveries.json().data as { id: string }[];
  expect(listed, JSON.stringify([message.json(), deliveries.json()])).toHaveLength(1);
  ids.delivery = (listed[0] as { id: string }).id;
  const secret = await call("POST", "/v1/secrets", { body: { name: "signing" } });
  expect(secret.status).toBe(201);
  ids.secret = "signing";
  const streamToken = await call("POST", "/v1/stream-tokens", { body: { event_types: ["*"] } });
  expect(streamToken.status).toBe(201);
  ids.streamTokenId = streamToken.json().id as string;
  ids.streamToken = streamToken.json().token as string;
  const natsToken = await call("POST", "/v1/nats-tokens", {
    body: { identity: "service", id: "backend" },
  });
  expect(natsToken.status).toBe(201);
  ids.natsTokenId = natsToken.json().id as string;
}

describe("/openapi.json lists every status each operation answers", () => {
  it("has a valid request for every operation (a new route adds one here)", () => {
    const operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const known = examples();
    expect(operations.filter((op) => !(op in known) && !op.startsWith("POST /webhooks/"))).toEqual(
      [],
    );
  });

  it("lists no status ranges, and the statuses every client must handle", () => {
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const label = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.filter((s) => !/^\d{3}$/.test(s)),
          label,
        ).toEqual([]);
        expect(statuses, label).toEqual(expect.arrayContaining(["400", "503"]));
        if (path.startsWith("/v1/")) expect(statuses, label).toContain("401");
        if (method === "delete") expect(statuses, label).toContain("204");
      }
    }
    const ingest = Object.keys(paths["/webhooks/{source}"]?.post?.responses ?? {});
    expect(ingest).toEqual(
      expect.arrayContaining(["200", "202", "400", "401", "403", "404", "413", "415", "503"]),
    );
  });

  it("documents every status the operations answer", async () => {
    await seed();
    const operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })),
    );
    const known = examples();
    // Failures first (each leaves the records in place), then the valid requests, DELETEs last.
    for (const { method, path } of operations) {
      if (path.startsWith("/webhooks/")) continue;
      const example = known[`${method} ${path}`] ?? {};
      const url = fill(path, true) + (example.query ?? "");
      const secured = path.startsWith("/v1/");
      const takesBody = method === "POST" || method === "PATCH" || method === "DELETE";
      if (secured)
        await call(method, url, {
          auth: false,
          ...(example.body === undefined ? {} : { body: example.body }),
        });
      if (path.includes("{"))
        await call(
          method,
          fill(path, false),
          example.body === undefined ? {} : { body: example.body },
        );
      if (method === "GET") await call(method, `${fill(path, true)}?limit=-1&cursor=%25%25`);
      if (takesBody) {
        await call(method, url, { raw: "{not json" });
        await call(method, url, { raw: "<a/>", contentType: "application/xml" });
        await call(method, url, { raw: JSON.stringify({ x: "y".repeat(BODY_LIMIT) }) });
        // A DELETE takes no body fields: one with a valid body would delete the record.
        if (method !== "DELETE") await call(method, url, { body: { unknown_field: true } });
      }
      state.down = true;
      await call(method, url, example.body === undefined ? {} : { body: example.body });
      state.down = false;
    }
    const ordered = [...operations].sort(
      (a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"),
    );
    for (const { method, path } of ordered) {
      if (path.startsWith("/webhooks/")) continue;
      const example = known[`${method} ${path}`] ?? {};
      const response = await call(
        method,
        fill(path, true) + (example.query ?? ""),
        example.body === undefined ? {} : { body: example.body },
      );
      if (example.status === undefined) {
        expect(response.status, `${method} ${path}`).toBeLessThan(300);
      } else {
        expect(response.status, `${method} ${path}`).toBe(example.status);
      }
    }

    // Conflicts and unknown references.
    await call("POST", "/v1/endpoints", {
      body: { id: "twice", url: "https://example.com/a", event_types: ["*"] },
    });
    await call("POST", "/v1/endpoints", {
      body: { id: "twice", url: "https://example.com/a", event_types: ["*"] },
    });
    await call("POST", "/v1/messages", {
      body: {
        type: "order.created",
        payload: {},
        url: "https://example.com/x",
        secret_name: "nope",
      },
    });

    // Ingestion: every outcome a sender can meet.
    const source = "/webhooks/shop";
    const body = JSON.stringify({ type: "order.created" });
    const post = (
      url: string,
      headers: Record<string, string>,
      raw = body,
      contentType = "application/json",
    ) => call("POST", url, { raw, contentType, auth: false, headers });
    await call("POST", "/v1/sources", {
      body: { name: "shop", scheme: "standard", secrets: [SECRET], type_from: { body: "type" } },
    });
    await call("POST", "/v1/sources", {
      body: { name: "fenced", scheme: "token", secrets: [TOKEN], allow_from: ["192.0.2.0/24"] },
    });
    expect((await post(source, signed(body, "msg_1"))).status).toBe(202);
    expect((await post(source, signed(body, "msg_1"))).status).toBe(200);
    await post("/webhooks/nobody", signed(body, "msg_2"));
    await post(source, {});
    await post(source, { ...signed(body, "msg_3"), "webhook-signature": "v1,AAAA" });
    await post(source, signed("{nope", "msg_4"), "{nope");
    await post(source, signed(body, "msg_5"), "a=b", "text/plain");
    await post(source, signed("x".repeat(BODY_LIMIT + 1), "msg_6"), "x".repeat(BODY_LIMIT + 1));
    await post("/webhooks/fenced", { authorization: `Bearer ${TOKEN}` });
    state.down = true;
    await post(source, signed(body, "msg_7"));
    state.down = false;

    const undocumented: string[] = [];
    for (const [operation, statuses] of observed) {
      const [method, path] = operation.split(" ") as [string, string];
      const documented = paths[path]?.[method.toLowerCase()]?.responses;
      if (documented === undefined) continue; // 404s of unknown routes, /openapi.json itself
      for (const status of statuses) {
        if (!(String(status) in documented)) undocumented.push(`${operation} → ${status}`);
      }
    }
    expect(undocumented).toEqual([]);
    // The failures above did reach the routes: every operation answered more than one status.
    const ingest = observed.get("POST /webhooks/{source}");
    expect([...(ingest ?? [])].sort()).toEqual(
      expect.arrayContaining([200, 202, 400, 401, 403, 404, 413, 415, 503]),
    );
    // /health (liveness) and /metrics (a store gauge reports the outage) answer 200 whatever the
    // database does; every other operation answered more than one status, so the failures above
    // did reach it.
    const single = operations
      .map(({ method, path }) => `${method} ${path}`)
      .filter((op) => (observed.get(op)?.size ?? 0) < 2);
    expect(single).toEqual(["GET /health", "GET /metrics"]);
  });
});
