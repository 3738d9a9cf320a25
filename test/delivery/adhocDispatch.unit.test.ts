// Ad-hoc dispatch (`dispatch({ type, payload, url, secretName })`) on the memory and SQLite
// stores, through the real HTTP transport to a local receiver under a ManualClock: delivered
// signed with the named secret, retried, dead-lettered and replayed like an endpoint's delivery;
// the secret is read at every attempt, so a rotation (or a deletion) applies to a pending retry.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adhocEndpointId } from "../../packages/core/src/delivery/adhocEndpoints.js";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher, type Dispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { rotateNamedSecret } from "../../packages/core/src/delivery/index.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import type { HmacSchemeSpec } from "../../packages/webhooks/src/signing/registry.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { LOCAL_DELIVERY_STORES, type LocalDeliveryStore } from "../helpers/localDeliveryStores.js";

const START = Date.UTC(2025, 0, 1);
const TYPE = "invoice.paid.v1";

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

for (const [name, factory] of LOCAL_DELIVERY_STORES) {
  describe(`ad-hoc dispatch: ${name}`, () => {
    let server: Server;
    let base: string;
    let requests: Captured[];
    /** Status of each next request, in order; 200 once empty. */
    let statuses: number[];
    let clock: ManualClock;
    let harness: LocalDeliveryStore;
    let store: DeliveryStore;
    let http: Transport;
    let dispatcher: Dispatcher;

    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          requests.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
          res.statusCode = statuses.shift() ?? 200;
          res.end("ok");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    beforeEach(() => {
      requests = [];
      statuses = [];
      clock = new ManualClock(START);
      harness = factory(clock);
      store = harness.store;
      http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], clock });
      dispatcher = createDispatcher({ store, clock });
    });

    afterEach(async () => {
      await http.close();
      harness.close();
    });

    /** One claim by a fresh worker (retries exactly on schedule); how many it sent. */
    async function work(): Promise<number> {
      const worker = createDeliveryWorker({
        store,
        transports: { http },
        clock,
        random: () => 0.5,
      });
      try {
        return await worker.runOnce();
      } finally {
        await worker.stop();
      }
    }

    const verify = (request: Captured, secret: string) =>
      verifyWebhook({
        scheme: "standard",
        secrets: secret,
        headers: request.headers,
        body: request.body,
        clock,
      });

    async function namedSecret(secretName = "partner") {
      const secret = generateSecret("standard");
      await store.createNamedSecret({ name: secretName, secrets: [{ secret }] });
      return secret;
    }

    /** An ad-hoc dispatch to `path` on the receiver, retried every `retryS` seconds once. */
    const adhoc = (path: string, retryS: number, secretName = "partner") =>
      dispatcher.dispatch({
        type: TYPE,
        payload: { path },
        url: `${base}${path}`,
        secretName,
        retry: { schedule_s: [retryS] },
      });

    it("delivers to the URL only, signed with the named secret, through one hidden endpoint", async () => {
      await store.createEndpoint({
        target: `${base}/routed`,
        eventTypes: ["invoice.*"],
        secrets: [{ secret: generateSecret("standard") }],
      });
      const url = `${base}/adhoc?x=1`;
      // #region adhoc-dispatch
      const secret = generateSecret("standard");
      await store.createNamedSecret({ name: "partner", secrets: [{ secret }] });
      const result = await dispatcher.dispatch({
        type: "invoice.paid.v1",
        payload: { invoice: "in_1" },
        url, // this URL only: no endpoint matching
        secretName: "partner", // signs, with its scheme (default standard)
      });
      expect(result).toMatchObject({ deliveries: 1, created: true });
      // #endregion adhoc-dispatch
      expect(await work()).toBe(1);
      expect(requests.map((r) => r.url)).toEqual(["/adhoc?x=1"]);
      const [request] = requests;
      expect(verify(request!, secret)).toMatchObject({ ok: true, id: result.messageId });
      expect(JSON.parse(request!.body.toString("utf8"))).toEqual({ invoice: "in_1" });

      const endpointId = adhocEndpointId({
        tenant: "default",
        url,
        secretName: "partner",
        retry: null,
      });
      expect(endpointId).toMatch(/^adhoc_[0-9a-f]{32}$/);
      const delivery = await store.getDelivery(result.deliveryIds[0]!);
      expect(delivery?.delivery).toMatchObject({ endpointId, status: "delivered", attempts: 1 });
      expect(await store.getEndpoint(endpointId)).toMatchObject({
        adhoc: true,
        secretName: "partner",
        target: url,
        secrets: [],
      });
      // Hidden from lists (and so from routing); a second dispatch reuses the endpoint.
      expect((await store.listEndpoints()).data.map((e) => e.target)).toEqual([`${base}/routed`]);
      const again = await dispatcher.dispatch({
        type: TYPE,
        payload: { invoice: "in_2" },
        url,
        secretName: "partner",
      });
      expect((await store.getDelivery(again.deliveryIds[0]!))?.delivery.endpointId).toBe(
        endpointId,
      );
      // A routed dispatch never reaches the ad-hoc endpoint.
      const routed = await dispatcher.dispatch({ type: TYPE, payload: {} });
      const routedTo = await store.getDelivery(routed.deliveryIds[0]!);
      expect(routed.deliveries).toBe(1);
      expect(routedTo?.delivery.endpointId).not.toBe(endpointId);
    });

    it("retries after a 500, and a rotation applies to the pending retry", async () => {
      const oldSecret = await namedSecret();
      statuses = [500];
      const result = await adhoc("/rotating", 10);
      expect(await work()).toBe(1);
      const deliveryId = result.deliveryIds[0]!;
      expect((await store.getDelivery(deliveryId))?.delivery).toMatchObject({
        status: "retrying",
        attempts: 1,
        maxAttempts: 2,
        lastStatusCode: 500,
      });
      expect(verify(requests[0]!, oldSecret)).toMatchObject({ ok: true });

      const { secret: newSecret } = await rotateNamedSecret(store, "default", "partner", {
        clock,
        overlapMs: 0,
      });
      clock.advance(10_000);
      expect(await work()).toBe(1);
      expect(requests).toHaveLength(2);
      expect(verify(requests[1]!, newSecret)).toMatchObject({ ok: true });
      expect(verify(requests[1]!, oldSecret)).toMatchObject({
        ok: false,
        code: "signature.invalid",
      });
      // Same message, so the same webhook-id on the retry.
      expect(requests[1]!.headers["webhook-id"]).toBe(requests[0]!.headers["webhook-id"]);
      expect((await store.getDelivery(deliveryId))?.delivery).toMatchObject({
        status: "delivered",
        attempts: 2,
      });
    });

    it("dead-letters after the last attempt, and a replay delivers it", async () => {
      const secret = await namedSecret();
      statuses = [500, 503];
      const result = await adhoc("/failing", 1);
      const deliveryId = result.deliveryIds[0]!;
      expect(await work()).toBe(1);
      clock.advance(1_000);
      expect(await work()).toBe(1);
      const dead = await store.getDelivery(deliveryId);
      expect(dead?.delivery).toMatchObject({ status: "dead_lettered", attempts: 2 });
      expect(dead?.delivery.lastError).toMatch(/max attempts \(2\) reached: HTTP 503/);
      expect(dead?.attempts.map((a) => a.statusCode)).toEqual([500, 503]);

      await store.replayDelivery(deliveryId);
      expect(await work()).toBe(1);
      const replayed = await store.getDelivery(deliveryId);
      expect(replayed?.delivery).toMatchObject({ status: "delivered", attempts: 1 });
      expect(replayed?.attempts.map((a) => [a.number, a.statusCode])).toEqual([
        [1, 500],
        [2, 503],
        [3, 200],
      ]);
      expect(verify(requests[2]!, secret)).toMatchObject({ ok: true });
    });

    it("fails an attempt with secret.not_found once the secret is deleted, and retries it", async () => {
      await namedSecret();
      const result = await adhoc("/orphan", 5);
      expect(await store.deleteNamedSecret("default", "partner")).toBe(true);
      expect(await work()).toBe(1);
      expect(requests).toHaveLength(0);
      const deliveryId = result.deliveryIds[0]!;
      const failed = await store.getDelivery(deliveryId);
      expect(failed?.delivery).toMatchObject({ status: "retrying", attempts: 1 });
      expect(failed?.attempts[0]).toMatchObject({ succeeded: false, statusCode: null });
      expect(failed?.attempts[0]?.error).toMatch(/^secret\.not_found: No secret "partner"/);

      const secret = await namedSecret();
      clock.advance(5_000);
      expect(await work()).toBe(1);
      expect(verify(requests[0]!, secret)).toMatchObject({ ok: true });
      expect((await store.getDelivery(deliveryId))?.delivery.status).toBe("delivered");
    });

    it("sends the message id in the hmac scheme's id header, the same on every attempt", async () => {
      const secret = "a-shared-hmac-secret-of-enough-length";
      const spec: HmacSchemeSpec = {
        name: "hmac",
        idHeader: "X-Delivery-Id",
        timestampHeader: "X-Timestamp",
        template: "{id}.{timestamp}.{body}",
      };
      const { name: _, ...schemeOptions } = spec;
      await store.createNamedSecret({
        name: "hmac-partner",
        scheme: "hmac",
        schemeOptions,
        secrets: [{ secret }],
      });
      statuses = [500];
      const result = await adhoc("/hmac", 1, "hmac-partner");
      expect(await work()).toBe(1);
      clock.advance(1_000);
      expect(await work()).toBe(1);
      expect(requests.map((r) => r.headers["x-delivery-id"])).toEqual([
        result.messageId,
        result.messageId,
      ]);
      for (const request of requests) {
        expect(request.headers["webhook-signature"]).toBeUndefined();
        expect(
          verifyWebhook({
            scheme: spec,
            secrets: secret,
            headers: request.headers,
            body: request.body,
            clock,
          }),
        ).toMatchObject({ ok: true, id: result.messageId });
      }
    });

    it("refuses an unknown secret and incomplete ad-hoc input, storing nothing", async () => {
      await namedSecret();
      const url = `${base}/refused`;
      await expect(
        dispatcher.dispatch({ type: TYPE, payload: {}, url, secretName: "nobody" }),
      ).rejects.toMatchObject({ code: "secret.not_found" });
      await expect(
        dispatcher.dispatch({
          type: TYPE,
          payload: {},
          url,
          secretName: "partner",
          tenant: "acme",
        }),
      ).rejects.toMatchObject({ code: "secret.not_found" });
      for (const [input, field] of [
        [{ url }, "secretName"],
        [{ secretName: "partner" }, "secretName"],
        [{ retry: { schedule_s: [1] } }, "retry"],
        [{ url: "ftp://example.com/x", secretName: "partner" }, "url"],
        [{ url: "/relative", secretName: "partner" }, "url"],
        [{ url, secretName: "bad name" }, "secretName"],
      ] as const) {
        await expect(
          dispatcher.dispatch({ type: TYPE, payload: {}, ...input }),
        ).rejects.toMatchObject({ code: "message.invalid", details: { field } });
      }
      await expect(
        dispatcher.dispatch({
          type: TYPE,
          payload: {},
          url,
          secretName: "partner",
          retry: { schedule_s: [-1] },
        }),
      ).rejects.toMatchObject({ code: "retry.invalid_policy" });
      expect(await store.listDeliveries()).toMatchObject({ data: [] });
    });
  });
}
