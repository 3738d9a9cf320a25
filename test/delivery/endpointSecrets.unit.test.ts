// rotateEndpointSecret on the in-memory store and on SQLite: after a rotation every request
// carries both signatures and receivers holding either secret verify it with verifyWebhook;
// once the overlap ends only the new secret signs.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import {
  DEFAULT_SECRET_OVERLAP_MS,
  rotateEndpointSecret,
} from "../../packages/core/src/delivery/endpointSecrets.js";
import { rotateEndpointSecret as exported } from "../../packages/core/src/delivery/index.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { LOCAL_DELIVERY_STORES, type LocalDeliveryStore } from "../helpers/localDeliveryStores.js";

const START = Date.UTC(2025, 0, 1);
const HOUR = 60 * 60 * 1000;

interface Captured {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

for (const [name, factory] of LOCAL_DELIVERY_STORES) {
  describe(`rotateEndpointSecret: ${name}`, () => {
    let server: Server;
    let url: string;
    let requests: Captured[];
    let clock: ManualClock;
    let harness: LocalDeliveryStore;
    let store: DeliveryStore;
    let http: Transport;

    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
          res.end("ok");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    beforeEach(() => {
      requests = [];
      clock = new ManualClock(START);
      harness = factory(clock);
      store = harness.store;
      http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], clock });
    });

    afterEach(async () => {
      await http.close();
      harness.close();
    });

    /** Dispatches one message and lets a worker deliver it; returns the request received. */
    async function deliverOne(): Promise<Captured> {
      await createDispatcher({ store, clock }).dispatch({
        type: "order.created.v1",
        payload: { id: "o_1" },
      });
      const before = requests.length;
      const worker = createDeliveryWorker({ store, transports: { http }, clock });
      try {
        expect(await worker.runOnce()).toBe(1);
      } finally {
        await worker.stop();
      }
      expect(requests).toHaveLength(before + 1);
      return requests[before]!;
    }

    function verify(request: Captured, secret: string) {
      return verifyWebhook({
        scheme: "standard",
        secrets: secret,
        headers: request.headers,
        body: request.body,
        clock,
      });
    }

    function signatureCount(request: Captured): number {
      return String(request.headers["webhook-signature"]).split(" ").length;
    }

    it("sends both signatures during the overlap, only the new one after it", async () => {
      const oldSecret = generateSecret("standard");
      const endpoint = await store.createEndpoint({
        target: url,
        eventTypes: ["order.*"],
        secrets: [{ secret: oldSecret }],
      });
      expect(signatureCount(await deliverOne())).toBe(1);

      clock.advance(1000);
      const { secret: newSecret, endpoint: rotated } = await rotateEndpointSecret(
        store,
        endpoint.id,
        { clock },
      );
      expect(newSecret).toMatch(/^whsec_/);
      expect(newSecret).not.toBe(oldSecret);
      expect(rotated.secrets.map((s) => [s.secret, s.expiresAt])).toEqual([
        [newSecret, null],
        [oldSecret, new Date(clock.now() + DEFAULT_SECRET_OVERLAP_MS).toISOString()],
      ]);
      expect((await store.getEndpoint(endpoint.id))?.secrets).toEqual(rotated.secrets);

      const during = await deliverOne();
      expect(signatureCount(during)).toBe(2);
      expect(verify(during, oldSecret)).toMatchObject({ ok: true });
      expect(verify(during, newSecret)).toMatchObject({ ok: true });

      clock.advance(24 * HOUR + 1);
      const after = await deliverOne();
      expect(signatureCount(after)).toBe(1);
      expect(verify(after, newSecret)).toMatchObject({ ok: true });
      expect(verify(after, oldSecret)).toMatchObject({
        ok: false,
        code: "signature.invalid",
      });
    });

    it("rotating twice keeps the current secret and the unexpired previous ones", async () => {
      const first = generateSecret("standard");
      const endpoint = await store.createEndpoint({
        target: url,
        eventTypes: ["order.*"],
        secrets: [{ secret: first }],
      });
      const second = await rotateEndpointSecret(store, endpoint.id, { clock });
      clock.advance(HOUR);
      const third = await rotateEndpointSecret(store, endpoint.id, {
        clock,
        secret: "whsec_dGhpcmQtc2VjcmV0LXRoaXJkLXNlY3JldC10aGlyZA==",
        overlapMs: 48 * HOUR,
      });
      expect(third.secret).toBe("whsec_dGhpcmQtc2VjcmV0LXRoaXJkLXNlY3JldC10aGlyZA==");
      // `first` keeps its earlier expiry (min), `second` gets now + 48 h.
      expect(third.endpoint.secrets.map((s) => [s.secret, s.expiresAt])).toEqual([
        [third.secret, null],
        [second.secret, new Date(START + HOUR + 48 * HOUR).toISOString()],
        [first, new Date(START + DEFAULT_SECRET_OVERLAP_MS).toISOString()],
      ]);

      const request = await deliverOne();
      expect(signatureCount(request)).toBe(3);
      for (const secret of [first, second.secret, third.secret]) {
        expect(verify(request, secret)).toMatchObject({ ok: true });
      }

      // Past the first overlap: another rotation drops the expired secret entirely.
      clock.advance(24 * HOUR);
      const fourth = await rotateEndpointSecret(store, endpoint.id, { clock });
      expect(fourth.endpoint.secrets.map((s) => s.secret)).toEqual([
        fourth.secret,
        third.secret,
        second.secret,
      ]);
      expect(
        fourth.endpoint.secrets.every(
          (s) => s.expiresAt === null || Date.parse(s.expiresAt) > clock.now(),
        ),
      ).toBe(true);
    });

    it("throws endpoint.not_found for an unknown endpoint", async () => {
      await expect(rotateEndpointSecret(store, "ep_missing", { clock })).rejects.toMatchObject({
        name: "HeraldError",
        code: "endpoint.not_found",
      });
    });
  });
}

it("is exported from herald/delivery", () => {
  expect(exported).toBe(rotateEndpointSecret);
});
