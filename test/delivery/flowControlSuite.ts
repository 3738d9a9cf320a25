// Flow control on a shared store with the real system clock: an endpoint's rate limit measured
// at a 127.0.0.1 receiver, and an ordered endpoint's FIFO under eight workers claiming at once.
import { createServer, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createDeliveryWorker,
  type DeliveryWorker,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore, EndpointInput } from "../../packages/core/src/store/deliveryPorts.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";

/** One database several workers share, each through a store of its own. */
export interface SharedStore {
  /** A store on a connection (SQLite) or pool (PostgreSQL) of its own, as another worker's would be. */
  open(): DeliveryStore;
  close(): Promise<void>;
}

export type SharedStoreFactory = () => Promise<SharedStore>;

interface Arrival {
  webhookId: string;
  /** performance.now() when the request body had arrived. */
  at: number;
}

interface Receiver {
  server: Server;
  url: string;
  arrivals: Arrival[];
}

async function startReceiver(delayMs: () => number = () => 0): Promise<Receiver> {
  const receiver: Receiver = {
    server: createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        receiver.arrivals.push({
          webhookId: String(req.headers["webhook-id"]),
          at: performance.now(),
        });
        setTimeout(() => res.end("ok"), delayMs());
      });
    }),
    url: "",
    arrivals: [],
  };
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/hooks`;
  return receiver;
}

async function stopReceiver(receiver: Receiver): Promise<void> {
  receiver.server.closeAllConnections();
  await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function testFlowControl(name: string, factory: SharedStoreFactory): void {
  describe(`flow control: ${name}`, () => {
    let shared: SharedStore;
    let receiver: Receiver | null;
    let workers: DeliveryWorker[];
    let transports: Transport[];

    beforeEach(async () => {
      shared = await factory();
      receiver = null;
      workers = [];
      transports = [];
    });

    afterEach(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(transports.map((t) => t.close()));
      if (receiver !== null) await stopReceiver(receiver);
      await shared.close();
    });

    function worker(store: DeliveryStore, concurrency: number): DeliveryWorker {
      const http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] });
      transports.push(http);
      const created = createDeliveryWorker({
        store,
        transports: { http },
        concurrency,
        pollIntervalMs: 10,
      });
      workers.push(created);
      return created;
    }

    async function endpoint(store: DeliveryStore, target: string, extra: Partial<EndpointInput>) {
      return store.createEndpoint({
        target,
        eventTypes: ["order.*"],
        secrets: [{ secret: generateSecret("standard") }],
        ...extra,
      });
    }

    async function dispatchMany(store: DeliveryStore, count: number, from = 0): Promise<string[]> {
      const dispatcher = createDispatcher({ store });
      const ids: string[] = [];
      for (let i = from; i < from + count; i++) {
        const { messageId } = await dispatcher.dispatch({
          type: "order.created.v1",
          payload: { n: i },
        });
        ids.push(messageId);
      }
      return ids;
    }

    async function delivered(store: DeliveryStore, endpointId: string): Promise<number> {
      const page = await store.listDeliveries({ endpointId, status: "delivered", limit: 1000 });
      return page.data.length;
    }

    it("holds an endpoint limited to 20/s to ≤ 22/s over 200 deliveries", {
      timeout: 60_000,
    }, async () => {
      receiver = await startReceiver();
      const store = shared.open();
      const { id } = await endpoint(store, receiver.url, { rateLimitPerS: 20 });
      const sent = await dispatchMany(store, 200);

      worker(store, 16).start();
      const arrivals = receiver.arrivals;
      await until("200 arrivals", () => arrivals.length >= 200, 40_000);
      await Promise.all(workers.map((w) => w.stop()));

      const first = arrivals[0]!.at;
      const last = arrivals[arrivals.length - 1]!.at;
      const rate = (arrivals.length - 1) / ((last - first) / 1000);
      console.info(`  ${name}: ${arrivals.length} arrivals at ${rate.toFixed(2)}/s`);
      expect(rate).toBeLessThanOrEqual(22);
      expect(new Set(arrivals.map((a) => a.webhookId))).toEqual(new Set(sent));
      expect(arrivals).toHaveLength(200);
      expect(await delivered(store, id)).toBe(200);
    });

    it("delivers 100 messages to an ordered endpoint in dispatch order under 8 workers", {
      timeout: 60_000,
    }, async () => {
      // A little latency at the receiver widens the window in which a second worker could
      // overtake the one sending.
      receiver = await startReceiver(() => Math.floor(Math.random() * 4));
      const stores = Array.from({ length: 8 }, () => shared.open());
      const first = stores[0]!;
      const { id } = await endpoint(first, receiver.url, { ordered: true });
      // Half queued before the workers start, half dispatched while they run.
      const sent = await dispatchMany(first, 50);
      const senders = new Set<string>();
      for (const store of stores) {
        const w = worker(store, 4);
        w.on("delivery:succeeded", () => senders.add(w.owner));
        w.start();
      }
      sent.push(...(await dispatchMany(first, 50, 50)));

      const arrivals = receiver.arrivals;
      await until("100 arrivals", () => arrivals.length >= 100, 40_000);
      await Promise.all(workers.map((w) => w.stop()));

      expect(arrivals.map((a) => a.webhookId)).toEqual(sent);
      expect(await delivered(first, id)).toBe(100);
      // The order held while the workers really took turns, not because one did all the work.
      expect(senders.size).toBeGreaterThan(1);
    });
  });
}
