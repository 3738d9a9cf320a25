// The service in-process (startService) over real sockets, on a given database: the management
// API end to end, ingestion through delivery, dead-letter and replay, auth and shutdown. Run on
// SQLite (service.unit) and PostgreSQL (service.int).
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startService } from "../../packages/server/src/server/service.js";
import type { DatabaseTarget } from "../../packages/server/src/store/openDatabase.js";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";

export interface ServiceSuiteDatabase {
  target: DatabaseTarget;
  cleanup(): Promise<void>;
}

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A 127.0.0.1 receiver answering `status` and recording every request. */
async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = state.status;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function testService(name: string, open: () => Promise<ServiceSuiteDatabase>): void {
  describe(`herald service on ${name}`, () => {
    let database: ServiceSuiteDatabase;
    let service: RunningService;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let base: string;

    async function call(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text === "" ? undefined : JSON.parse(text),
        headers: response.headers,
      };
    }

    beforeAll(async () => {
      database = await open();
      receiver = await startReceiver();
      service = await startService({
        database: database.target,
        http: true,
        worker: true,
        host: "127.0.0.1",
        port: 0,
        apiKey: null,
        ssrfAllow: ["127.0.0.0/8"],
        pollIntervalMs: 50,
        logger: pino({ level: "silent" }),
        version: "test",
      });
      base = service.url as string;
    });

    afterAll(async () => {
      await service?.stop();
      await receiver?.close();
      await database?.cleanup();
    });

    it("answers /health and /ready", async () => {
      const health = await call("GET", "/health");
      expect(health).toMatchObject({ status: 200, json: { status: "ok", version: "test" } });
      expect(Date.parse(health.json.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(await call("GET", "/ready")).toMatchObject({
        status: 200,
        json: {
          status: "ready",
          timestamp: expect.any(String),
          checks: { database: { status: "ok", required: true } },
        },
      });
    });

    it("manages event types", async () => {
      const type = {
        name: "order.created.v1",
        description: "An order",
        schema: { type: "object", required: ["id"] },
      };
      expect((await call("POST", "/v1/event-types", type)).status).toBe(201);
      expect((await call("POST", "/v1/event-types", type)).status).toBe(200);
      expect((await call("GET", "/v1/event-types/order.created.v1")).json).toMatchObject({
        name: "order.created.v1",
        deprecated: false,
      });
      expect((await call("GET", "/v1/event-types")).json.data).toHaveLength(1);
      // The payload schema is enforced on dispatch.
      const bad = await call("POST", "/v1/messages", {
        type: "order.created.v1",
        payload: { nope: 1 },
      });
      expect(bad).toMatchObject({ status: 400, json: { error: { code: "payload.invalid" } } });
      expect((await call("DELETE", "/v1/event-types/order.created.v1")).status).toBe(204);
      expect(await call("GET", "/v1/event-types/order.created.v1")).toMatchObject({
        status: 404,
        json: { error: { code: "event_type.not_found" } },
      });
    });

    it("manages sources without ever returning their secrets", async () => {
      const source = {
        name: "gh",
        scheme: "github",
        secrets: ["gh-secret-1"],
        type_from: { header: "X-GitHub-Event" },
      };
      const created = await call("POST", "/v1/sources", source);
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: "gh", secret_count: 1 });
      expect(JSON.stringify(created.json)).not.toContain("gh-secret-1");
      expect(
        (await call("POST", "/v1/sources", { ...source, secrets: ["a", "b"] })).json.secret_count,
      ).toBe(2);
      const list = await call("GET", "/v1/sources");
      expect(JSON.stringify(list.json)).not.toContain("gh-secret-1");
      expect((await call("DELETE", "/v1/sources/gh")).status).toBe(204);
      expect((await call("GET", "/v1/sources/gh")).status).toBe(404);
      expect((await call("POST", "/v1/sources", { ...source, extra: 1 })).json.error.code).toBe(
        "request.invalid",
      );
      const noSecrets = await call("POST", "/v1/sources", { name: "bare", scheme: "github" });
      expect(noSecrets).toMatchObject({
        status: 400,
        json: { error: { code: "request.invalid" } },
      });
      expect(noSecrets.json.error.message).toContain("secrets");
    });

    it("manages endpoints: create, page, update, disable, rotate, delete", async () => {
      const a = await call("POST", "/v1/endpoints", {
        url: "https://a.example.com/h",
        event_types: ["x.*"],
      });
      expect(a.status).toBe(201);
      expect(a.json.secret).toMatch(/^whsec_/);
      const b = await call("POST", "/v1/endpoints", {
        id: "ep_b",
        url: "https://b.example.com/h",
        event_types: ["y.*"],
        tenant: "acme",
      });
      expect(b.json.id).toBe("ep_b");
      expect(
        (
          await call("POST", "/v1/endpoints", {
            id: "ep_b",
            url: "https://b.example.com/h",
            event_types: ["y.*"],
          })
        ).status,
      ).toBe(409);
      const first = await call("GET", "/v1/endpoints?limit=1");
      expect(first.json.data).toHaveLength(1);
      expect(first.json.next_cursor).toEqual(expect.any(String));
      const second = await call(
        "GET",
        `/v1/endpoints?limit=1&cursor=${encodeURIComponent(first.json.next_cursor)}`,
      );
      expect(second.json.data[0].id).not.toBe(first.json.data[0].id);
      expect(
        (await call("GET", "/v1/endpoints?tenant=acme")).json.data.map((e: { id: string }) => e.id),
      ).toEqual(["ep_b"]);
      expect(
        (await call("PATCH", "/v1/endpoints/ep_b", { event_types: ["z.*"], timeout_ms: 5000 }))
          .json,
      ).toMatchObject({
        event_types: ["z.*"],
        timeout_ms: 5000,
      });
      expect(
        (await call("POST", "/v1/endpoints/ep_b/disable", { reason: "maintenance" })).json,
      ).toMatchObject({
        enabled: false,
        disabled_reason: "maintenance",
      });
      expect((await call("POST", "/v1/endpoints/ep_b/enable")).json.enabled).toBe(true);
      const rotated = await call("POST", "/v1/endpoints/ep_b/rotate-secret", {});
      expect(rotated.json.secret).toMatch(/^whsec_/);
      expect(rotated.json.secret).not.toBe(b.json.secret);
      expect(rotated.json.secret_count).toBe(2);
      expect((await call("DELETE", "/v1/endpoints/ep_b")).status).toBe(204);
      expect((await call("GET", "/v1/endpoints/ep_b")).json.error.code).toBe("endpoint.not_found");
      expect((await call("DELETE", `/v1/endpoints/${a.json.id}`)).status).toBe(204);
    });

    it("dispatches messages idempotently and delivers them signed", async () => {
      const ep = await call("POST", "/v1/endpoints", {
        url: receiver.url,
        event_types: ["invoice.*"],
      });
      const sent = await call(
        "POST",
        "/v1/messages",
        { type: "invoice.paid", payload: { id: "in_1" } },
        { "idempotency-key": "k-1" },
      );
      expect(sent).toMatchObject({ status: 202, json: { deliveries: 1, duplicate: false } });
      const again = await call(
        "POST",
        "/v1/messages",
        { type: "invoice.paid", payload: { id: "in_1" } },
        { "idempotency-key": "k-1" },
      );
      expect(again).toMatchObject({
        status: 200,
        json: { message_id: sent.json.message_id, duplicate: true },
      });
      const message = await until(async () => {
        const m = await call("GET", `/v1/messages/${sent.json.message_id}`);
        return m.json.status === "delivered" ? m : undefined;
      });
      expect(message.json).toMatchObject({
        type: "invoice.paid",
        payload: { id: "in_1" },
        source: null,
        idempotency_key: "k-1",
        status_description: "Delivered after 1 attempt.",
        attempts: 1,
        last_error: null,
        next_retry_at: null,
        updated_at: message.json.deliveries[0].updated_at,
      });
      // No endpoint takes this type: nothing to deliver, said so at once.
      const unmatched = await call("POST", "/v1/messages", { type: "nobody.listens", payload: {} });
      expect(await call("GET", `/v1/messages/${unmatched.json.message_id}`)).toMatchObject({
        status: 200,
        json: {
          status: "no_endpoints",
          attempts: 0,
          max_attempts: 0,
          last_error: null,
          next_retry_at: null,
          idempotency_key: null,
          deliveries: [],
        },
      });
      const request = receiver.received.find(
        (r) => r.headers["webhook-id"] === sent.json.message_id,
      );
      expect(request).toBeDefined();
      const verified = verifyWebhook({
        scheme: "standard",
        secrets: [ep.json.secret],
        headers: request?.headers ?? {},
        body: request?.body ?? "",
      });
      expect(verified.ok).toBe(true);
      await call("DELETE", `/v1/endpoints/${ep.json.id}`);
    });

    it("ingests a signed webhook, dedupes it, and delivers it as <source>.<type>", async () => {
      await call("POST", "/v1/sources", {
        name: "stripe",
        scheme: "stripe",
        secrets: ["whsec_stripe"],
        type_from: { body: "type" },
      });
      const ep = await call("POST", "/v1/endpoints", {
        url: receiver.url,
        event_types: ["stripe.*"],
      });
      const body = JSON.stringify({ id: "evt_1", type: "charge.succeeded" });
      const headers = signWebhook({ scheme: "stripe", secret: "whsec_stripe", body });
      const post = () =>
        fetch(`${base}/webhooks/stripe`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body,
        });
      const first = await post();
      expect(first.status).toBe(202);
      const { message_id, status_url } = (await first.json()) as {
        message_id: string;
        status_url: string;
      };
      expect(status_url).toBe(`/v1/messages/${message_id}`);
      const second = await post();
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual({
        message_id,
        status: "duplicate",
        status_url: `/v1/messages/${message_id}`,
      });
      const delivered = await until(async () => {
        const m = await call("GET", `/v1/messages/${message_id}`);
        return m.json.status === "delivered" ? m.json : undefined;
      });
      // The id the source deduplicated it by (Stripe's event id) is its idempotency key.
      expect(delivered).toMatchObject({
        type: "stripe.charge.succeeded",
        source: "stripe",
        idempotency_key: "evt_1",
        attempts: 1,
      });
      const listed = await call("GET", `/v1/deliveries?endpoint=${ep.json.id}&status=delivered`);
      expect(listed.json.data).toHaveLength(1);
      const one = await call("GET", `/v1/deliveries/${listed.json.data[0].id}`);
      expect(one.json.attempt_log).toHaveLength(1);
      expect(one.json.attempt_log[0]).toMatchObject({ succeeded: true, status_code: 200 });
      // Unsigned, unknown source, wrong type of body.
      expect(
        (
          await fetch(`${base}/webhooks/stripe`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await fetch(`${base}/webhooks/nope`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          })
        ).status,
      ).toBe(404);
      expect(
        (
          await fetch(`${base}/webhooks/stripe`, {
            method: "POST",
            headers: { ...headers, "content-type": "text/plain" },
            body,
          })
        ).status,
      ).toBe(415);
      await call("DELETE", `/v1/endpoints/${ep.json.id}`);
    });

    it("shows a failed message as retrying, with its attempts, error and next attempt", async () => {
      receiver.state.status = 500;
      const ep = await call("POST", "/v1/endpoints", {
        url: receiver.url,
        event_types: ["later.*"],
        // No jitter: the next attempt is due exactly an hour after the first.
        retry: { schedule_s: [3600], jitter: 0 },
      });
      const sent = await call("POST", "/v1/messages", { type: "later.test", payload: {} });
      const retrying = await until(async () => {
        const m = await call("GET", `/v1/messages/${sent.json.message_id}`);
        return m.json.status === "retrying" ? m.json : undefined;
      });
      receiver.state.status = 200;
      const [delivery] = retrying.deliveries;
      expect(retrying).toMatchObject({
        attempts: 1,
        max_attempts: 2,
        last_error: "HTTP 500",
        next_retry_at: delivery.next_retry_at,
        updated_at: delivery.updated_at,
        status_description: `Retrying: 1 attempt of 2 failed; the next is due ${delivery.next_retry_at}.`,
      });
      expect(Date.parse(retrying.next_retry_at) - Date.now()).toBeGreaterThan(3_000_000);
      await call("DELETE", `/v1/endpoints/${ep.json.id}`);
    });

    it("shows an inbound webhook's idempotency header as its idempotency_key", async () => {
      const token = "tok_service_suite_0123456789";
      await call("POST", "/v1/sources", {
        name: "crm",
        scheme: "token",
        secrets: [token],
        idempotency_header: "Idempotency-Key",
        type_from: { fixed: "event" },
      });
      const post = (headers: Record<string, string>) =>
        fetch(`${base}/webhooks/crm`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            ...headers,
          },
          body: JSON.stringify({ n: Object.keys(headers).length }),
        }).then(async (r) => ({
          status: r.status,
          json: (await r.json()) as { status_url: string },
        }));
      const keyed = await post({ "idempotency-key": "order-42" });
      expect(keyed.status).toBe(202);
      expect(await call("GET", keyed.json.status_url)).toMatchObject({
        status: 200,
        json: { source: "crm", type: "crm.event", idempotency_key: "order-42" },
      });
      // Deduplicated by the body's hash: no key to show.
      const unkeyed = await post({});
      expect(unkeyed.status).toBe(202);
      expect((await call("GET", unkeyed.json.status_url)).json.idempotency_key).toBeNull();
    });

    it("dead-letters after the last attempt, and replay delivers", async () => {
      receiver.state.status = 500;
      const ep = await call("POST", "/v1/endpoints", {
        url: receiver.url,
        event_types: ["dl.*"],
        retry: { schedule_s: [0.05] },
      });
      const sent = await call("POST", "/v1/messages", { type: "dl.test", payload: { n: 1 } });
      const dead = await until(async () => {
        const list = await call(
          "GET",
          `/v1/deliveries?status=dead_lettered&endpoint=${ep.json.id}`,
        );
        return list.json.data[0];
      });
      expect(dead).toMatchObject({
        message_id: sent.json.message_id,
        attempts: 2,
        max_attempts: 2,
        last_status_code: 500,
      });
      receiver.state.status = 200;
      const replayed = await call("POST", `/v1/deliveries/${dead.id}/replay`);
      expect(replayed).toMatchObject({ status: 202, json: { status: "pending", attempts: 0 } });
      await until(async () => {
        const d = await call("GET", `/v1/deliveries/${dead.id}`);
        return d.json.status === "delivered" ? d : undefined;
      });
      // Recover: fail again, then replay everything since the start.
      receiver.state.status = 500;
      const again = await call("POST", "/v1/messages", { type: "dl.test", payload: { n: 2 } });
      const deadMessage = await until(async () => {
        const m = await call("GET", `/v1/messages/${again.json.message_id}`);
        return m.json.status === "dead_lettered" ? m : undefined;
      });
      expect(deadMessage.json).toMatchObject({
        attempts: 2,
        max_attempts: 2,
        last_error: "max attempts (2) reached: HTTP 500",
        next_retry_at: null,
        status_description: expect.stringMatching(/^Dead-lettered after 2 attempts/),
      });
      receiver.state.status = 200;
      const recovered = await call("POST", `/v1/endpoints/${ep.json.id}/recover`, {
        since: "2000-01-01T00:00:00Z",
      });
      expect(recovered).toMatchObject({ status: 202, json: { replayed: 1 } });
      await until(async () => {
        const m = await call("GET", `/v1/messages/${again.json.message_id}`);
        return m.json.status === "delivered" ? m : undefined;
      });
      await call("DELETE", `/v1/endpoints/${ep.json.id}`);
    });

    it("validates queries and ids with stable codes", async () => {
      expect((await call("GET", "/v1/deliveries?status=bogus")).json.error.code).toBe(
        "request.invalid",
      );
      expect((await call("GET", "/v1/deliveries?limit=0")).status).toBe(400);
      expect((await call("GET", "/v1/deliveries?cursor=nonsense")).json.error.code).toBe(
        "cursor.invalid",
      );
      expect((await call("GET", "/v1/messages/msg_nope")).json.error.code).toBe(
        "message.not_found",
      );
      expect((await call("POST", "/v1/deliveries/dlv_nope/replay")).json.error.code).toBe(
        "delivery.not_found",
      );
      expect((await call("GET", "/v1/nothing")).json.error.code).toBe("route.not_found");
      const broken = await fetch(`${base}/v1/sources`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as { error: { code: string } }).error.code).toBe(
        "body.invalid_json",
      );
    });

    it("serves metrics and an OpenAPI document", async () => {
      const metrics = await fetch(`${base}/metrics`);
      const text = await metrics.text();
      expect(text).toContain("herald_ingest_requests_total");
      expect(text).toMatch(/herald_queue_depth\{status="pending"\}/);
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(doc.openapi).toBe("3.1.0");
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          "/webhooks/{source}",
          "/v1/endpoints",
          "/v1/deliveries/{id}/replay",
        ]),
      );
    });

    it("requires the API key when one is set, compared as a whole", async () => {
      const secured = await startService({
        database: database.target,
        http: true,
        worker: false,
        host: "127.0.0.1",
        port: 0,
        apiKey: "k_0123456789",
        logger: pino({ level: "silent" }),
        version: "test",
      });
      try {
        const get = (auth?: string) =>
          fetch(
            `${secured.url}/v1/sources`,
            auth === undefined ? {} : { headers: { authorization: auth } },
          );
        expect((await get()).status).toBe(401);
        expect((await get("Bearer k_0123456788")).status).toBe(401);
        expect((await get("Bearer k_012345678")).status).toBe(401);
        expect((await get("Basic k_0123456789")).status).toBe(401);
        expect((await get("Bearer k_0123456789")).status).toBe(200);
        // Operations routes stay open for probes.
        expect((await fetch(`${secured.url}/health`)).status).toBe(200);
      } finally {
        await secured.stop();
      }
    });

    it("stops within its grace period with a request that never completes", async () => {
      // Grace: body timeout + request deadline + 1 s = 1.6 s.
      const stopping = await startService({
        database: database.target,
        http: true,
        worker: false,
        host: "127.0.0.1",
        port: 0,
        apiKey: null,
        bodyTimeoutMs: 100,
        requestDeadlineMs: 500,
        logger: pino({ level: "silent" }),
        version: "test",
      });
      const { port } = new URL(stopping.url!);
      const client = net.connect({ host: "127.0.0.1", port: Number(port) });
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.on("error", () => {});
      // Headers never finished: Node's own headers timeout would answer it after 60 s or more.
      await new Promise<void>((resolve) =>
        client.write("GET /health HTTP/1.1\r\nHost: x\r\n", () => resolve()),
      );
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await stopping.stop();
      const took = performance.now() - started;
      await closed;
      expect(took).toBeGreaterThanOrEqual(1_500);
      expect(took).toBeLessThan(5_000);
    });

    it("refuses to listen off loopback without an API key", async () => {
      await expect(
        startService({
          database: database.target,
          http: true,
          worker: false,
          host: "0.0.0.0",
          port: 0,
          apiKey: null,
          logger: pino({ level: "silent" }),
          version: "test",
        }),
      ).rejects.toMatchObject({ code: "config.invalid" });
    });
  });
}
