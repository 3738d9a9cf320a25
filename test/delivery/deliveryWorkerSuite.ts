// The delivery worker's behaviour on any DeliveryStore, against a real HTTP receiver on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../packages/core/src/core/retryPolicy.js";
import type { DeliveryWorkerEvent } from "../../packages/core/src/delivery/deliveryEvents.js";
import {
  createDeliveryWorker,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore, EndpointInput } from "../../packages/core/src/store/deliveryPorts.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";

export const START = Date.UTC(2025, 0, 1);

export interface WorkerHarness {
  store: DeliveryStore;
  close(): Promise<void>;
}

export type WorkerStoreFactory = (clock: ManualClock) => Promise<WorkerHarness>;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Receiver {
  server: Server;
  url: string;
  /** Clock time of each request, in arrival order. */
  hits: number[];
  respond: Handler;
  /** Secrets of the endpoint under test: every request must verify with them. */
  secrets: string[];
  /** Requests that failed verifyWebhook, with its error code. */
  rejected: string[];
}

async function startReceiver(clock: () => ManualClock): Promise<Receiver> {
  const receiver: Receiver = {
    server: createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const now = clock().now();
        receiver.hits.push(now);
        // As a real receiver would: verify the raw bytes before answering.
        const verdict = verifyWebhook({
          scheme: "standard",
          secrets: receiver.secrets,
          headers: req.headers,
          body: Buffer.concat(chunks),
          now,
        });
        if (!verdict.ok) receiver.rejected.push(verdict.code);
        receiver.respond(req, res);
      });
    }),
    url: "",
    hits: [],
    respond: (_req, res) => res.end("ok"),
    secrets: [],
    rejected: [],
  };
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/hooks`;
  return receiver;
}

function status(code: number, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(code, headers);
    res.end(`status ${code}`);
  };
}

/** Answers the given statuses in turn, then the last one forever. */
function sequence(...codes: number[]): Handler {
  let i = 0;
  return (req, res) => status(codes[Math.min(i++, codes.length - 1)]!)(req, res);
}

/** Every case runs on every store: the acceptance points hold on each backend. */
export function testDeliveryWorker(name: string, factory: WorkerStoreFactory): void {
  describe(`delivery worker: ${name}`, () => {
    let clock: ManualClock;
    let harness: WorkerHarness;
    let store: DeliveryStore;
    let receiver: Receiver;
    let http: Transport;
    let events: DeliveryWorkerEvent[];
    const workers: DeliveryWorker[] = [];

    beforeAll(async () => {
      receiver = await startReceiver(() => clock);
    });

    afterAll(async () => {
      receiver.server.closeAllConnections();
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    });

    beforeEach(async () => {
      clock = new ManualClock(START);
      harness = await factory(clock);
      store = harness.store;
      http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], clock });
      events = [];
      receiver.hits.length = 0;
      receiver.rejected.length = 0;
      receiver.secrets = [];
      receiver.respond = (_req, res) => res.end("ok");
    });

    afterEach(async () => {
      // Acceptance: the receiver verified every request the worker sent.
      expect(receiver.rejected).toEqual([]);
      for (const worker of workers.splice(0)) await worker.stop();
      await http.close();
      await harness.close();
    });

    function worker(overrides: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
      const created = createDeliveryWorker({
        store,
        transports: { http },
        clock,
        random: () => 0.5, // no jitter: attempts land exactly on the schedule
        onEvent: (event) => events.push(event),
        ...overrides,
      });
      workers.push(created);
      return created;
    }

    async function dispatchTo(
      retry: RetryPolicy | null,
      extra: Partial<EndpointInput> = {},
    ): Promise<{ deliveryId: string; endpointId: string }> {
      const secret = generateSecret("standard");
      receiver.secrets.push(secret);
      const endpoint = await store.createEndpoint({
        target: receiver.url,
        eventTypes: ["order.*"],
        secrets: [{ secret }],
        retry,
        ...extra,
      });
      const result = await createDispatcher({ store, clock }).dispatch({
        type: "order.created.v1",
        payload: { id: "o_1" },
      });
      return { deliveryId: result.deliveryIds[0]!, endpointId: endpoint.id };
    }

    async function load(deliveryId: string) {
      const found = await store.getDelivery(deliveryId);
      if (found === undefined) throw new Error(`no delivery ${deliveryId}`);
      return found;
    }

    it("delivers on the first attempt", async () => {
      const { deliveryId } = await dispatchTo(null);
      expect(await worker().runOnce()).toBe(1);
      const { delivery, attempts } = await load(deliveryId);
      expect(delivery.status).toBe("delivered");
      expect(delivery.attempts).toBe(1);
      expect(attempts.map((a) => [a.statusCode, a.succeeded])).toEqual([[200, true]]);
      expect(receiver.hits).toEqual([START]);
    });

    it("retries 500, 500 then delivers on the 200, each attempt at its scheduled time", async () => {
      receiver.respond = sequence(500, 500, 200);
      const { deliveryId } = await dispatchTo({ schedule_s: [5, 10] });
      const w = worker();
      expect(await w.runOnce()).toBe(1);
      expect((await load(deliveryId)).delivery.status).toBe("retrying");

      clock.advance(4_999);
      expect(await w.runOnce()).toBe(0);
      clock.advance(1);
      expect(await w.runOnce()).toBe(1);

      clock.advance(9_999);
      expect(await w.runOnce()).toBe(0);
      clock.advance(1);
      expect(await w.runOnce()).toBe(1);

      const { delivery, attempts } = await load(deliveryId);
      expect(delivery.status).toBe("delivered");
      expect(attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
      expect(receiver.hits).toEqual([START, START + 5_000, START + 15_000]);
    });

    it("dead-letters an always-failing delivery after max attempts; replay then delivers it", async () => {
      receiver.respond = status(500);
      const { deliveryId } = await dispatchTo({ schedule_s: [1, 1] });
      const w = worker();
      for (let i = 0; i < 3; i++) {
        expect(await w.runOnce()).toBe(1);
        clock.advance(1_000);
      }
      let { delivery, attempts } = await load(deliveryId);
      expect(delivery.status).toBe("dead_lettered");
      expect(delivery.lastError).toContain("max attempts (3)");
      expect(attempts).toHaveLength(3);

      clock.advance(3_600_000);
      expect(await w.runOnce()).toBe(0);
      expect(receiver.hits).toHaveLength(3);

      receiver.respond = status(204);
      await store.replayDelivery(deliveryId);
      expect(await w.runOnce()).toBe(1);
      ({ delivery, attempts } = await load(deliveryId));
      expect(delivery.status).toBe("delivered");
      expect(delivery.attempts).toBe(1);
      expect(attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 204]);
    });

    it("disables the endpoint on 410 and dead-letters the delivery", async () => {
      receiver.respond = status(410);
      const { deliveryId, endpointId } = await dispatchTo({ schedule_s: [1, 1] });
      expect(await worker().runOnce()).toBe(1);
      const { delivery } = await load(deliveryId);
      expect(delivery.status).toBe("dead_lettered");
      expect(delivery.lastError).toBe("410 Gone");
      const endpoint = await store.getEndpoint(endpointId);
      expect(endpoint?.enabled).toBe(false);
      expect(endpoint?.disabledReason).toBe("410 Gone");
      expect(events.map((e) => e.name)).toEqual([
        "delivery:attempt",
        "delivery:dead_lettered",
        "endpoint:disabled",
      ]);
      expect(events[2]?.payload).toMatchObject({ deliveryId, endpointId, attempt: 1 });
    });

    it("waits at least Retry-After (2 s) after a 429, even with a shorter schedule", async () => {
      receiver.respond = ((inner: Handler) => {
        let first = true;
        return (req: IncomingMessage, res: ServerResponse) => {
          if (!first) return inner(req, res);
          first = false;
          status(429, { "retry-after": "2" })(req, res);
        };
      })(status(200));
      const { deliveryId } = await dispatchTo({ schedule_s: [0.1] });
      const w = worker();
      await w.runOnce();
      expect((await load(deliveryId)).delivery.nextAttemptAt).toBe(
        new Date(START + 2_000).toISOString(),
      );
      clock.advance(1_999);
      expect(await w.runOnce()).toBe(0);
      clock.advance(1);
      expect(await w.runOnce()).toBe(1);
      expect(receiver.hits).toEqual([START, START + 2_000]);
      expect((await load(deliveryId)).delivery.status).toBe("delivered");
    });

    it("emits typed events in order, with ids and attempt numbers", async () => {
      receiver.respond = sequence(503, 200);
      const { deliveryId, endpointId } = await dispatchTo({ schedule_s: [5] });
      const w = worker();
      const seen: string[] = [];
      w.on("delivery:succeeded", (e) => seen.push(`${e.deliveryId}#${e.attempt}`));
      w.on("delivery:attempt", () => {
        throw new Error("a broken listener changes nothing");
      });
      await w.runOnce();
      clock.advance(5_000);
      await w.runOnce();
      expect(
        events.map((e) => [e.name, "attempt" in e.payload ? e.payload.attempt : null]),
      ).toEqual([
        ["delivery:attempt", 1],
        ["delivery:retry_scheduled", 1],
        ["delivery:attempt", 2],
        ["delivery:succeeded", 2],
      ]);
      expect(events[1]?.payload).toMatchObject({
        deliveryId,
        endpointId,
        reason: "unavailable",
        delayMs: 5_000,
        nextAttemptAt: new Date(START + 5_000).toISOString(),
      });
      expect(seen).toEqual([`${deliveryId}#2`]);
    });

    it("dead-letters a delivery whose transport this worker lacks", async () => {
      const { deliveryId } = await dispatchTo(null, { transport: "nats", target: "orders" });
      expect(await worker().runOnce()).toBe(1);
      const { delivery, attempts } = await load(deliveryId);
      expect(delivery.status).toBe("dead_lettered");
      expect(delivery.lastError).toContain('no "nats" transport');
      expect(attempts).toHaveLength(0);
    });

    it("gives a rate-limited delivery back without counting an attempt", async () => {
      await dispatchTo(null, { rateLimitPerS: 1 });
      await createDispatcher({ store, clock }).dispatch({ type: "order.created.v1", payload: {} });
      expect(await worker().runOnce()).toBe(2);
      expect(receiver.hits).toHaveLength(1);
      const released = events.find((e) => e.name === "delivery:released");
      expect(released?.payload).toMatchObject({ reason: "rate_limited", attempt: 0 });
    });

    it("stop() waits for the attempt in flight and gives back what it has not started", async () => {
      let answer: (() => void) | undefined;
      const arrived = new Promise<void>((resolve) => {
        receiver.respond = (_req, res) => {
          answer = () => res.end("ok");
          resolve();
        };
      });
      const first = await dispatchTo(null);
      const second = await createDispatcher({ store, clock }).dispatch({
        type: "order.created.v1",
        payload: {},
      });
      const w = worker({ concurrency: 1, batchSize: 5 });
      const run = w.runOnce();
      await arrived;
      let stopped = false;
      const stopping = w.stop().then(() => {
        stopped = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stopped).toBe(false);
      answer?.();
      await stopping;
      expect(await run).toBe(2);
      expect((await load(first.deliveryId)).delivery.status).toBe("delivered");
      const unstarted = (await load(second.deliveryIds[0]!)).delivery;
      expect(unstarted.status).toBe("pending");
      expect(unstarted.leaseOwner).toBeNull();
      expect(receiver.hits).toHaveLength(1);
    });

    it("start() keeps delivering in the background until stop()", async () => {
      const { deliveryId } = await dispatchTo(null);
      const w = worker({ pollIntervalMs: 10 });
      const done = new Promise<void>((resolve) => w.on("delivery:succeeded", () => resolve()));
      w.start();
      await done;
      await w.stop();
      expect((await load(deliveryId)).delivery.status).toBe("delivered");
    });
  });
}
