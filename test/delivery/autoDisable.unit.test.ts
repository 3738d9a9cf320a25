// Auto-disable on the in-memory store: a receiver on 127.0.0.1 that keeps failing gets its
// endpoint disabled after N failures in a row or a failing span, with the reason stored.
import { createServer, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../packages/core/src/core/retryPolicy.js";
import {
  autoDisableReason,
  autoDisableSettings,
  DEFAULT_AUTO_DISABLE_AFTER_FAILING_MS,
} from "../../packages/core/src/delivery/autoDisable.js";
import type { DeliveryWorkerEvent } from "../../packages/core/src/delivery/deliveryEvents.js";
import {
  createDeliveryWorker,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";

const START = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

describe("autoDisableReason", () => {
  const settings = autoDisableSettings({ afterConsecutiveFailures: 3 });
  const since = new Date(START).toISOString();

  it("defaults to a 5-day span and no failure count", () => {
    expect(autoDisableSettings()).toEqual({
      afterFailingMs: 5 * DAY,
      afterConsecutiveFailures: null,
    });
    expect(DEFAULT_AUTO_DISABLE_AFTER_FAILING_MS).toBe(5 * DAY);
  });

  it("fires at the count and at the span, not before", () => {
    const health = (n: number) => ({ consecutiveFailures: n, failingSince: since });
    expect(autoDisableReason(health(2), settings, START + DAY)).toBeNull();
    expect(autoDisableReason(health(3), settings, START)).toBe(
      "auto-disabled: 3 consecutive failed attempts",
    );
    expect(autoDisableReason(health(1), settings, START + 5 * DAY - 1)).toBeNull();
    expect(autoDisableReason(health(1), settings, START + 5 * DAY)).toBe(
      `auto-disabled: every attempt failed for 5 days (since ${since})`,
    );
    expect(
      autoDisableReason({ consecutiveFailures: 0, failingSince: null }, settings, START + 9 * DAY),
    ).toBeNull();
  });

  it("rejects thresholds that are not integers ≥ 1", () => {
    expect(() => autoDisableSettings({ afterConsecutiveFailures: 0 })).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
    expect(() =>
      createDeliveryWorker({
        store: createMemoryDeliveryStore(),
        transports: {},
        autoDisable: { afterFailingMs: 1.5 },
      }),
    ).toThrow(expect.objectContaining({ code: "config.invalid" }));
  });
});

describe("delivery worker auto-disable (memory store)", () => {
  let server: Server;
  let url: string;
  /** Status codes to answer in turn; the last one repeats. */
  let codes: number[];
  let hits: number;
  let clock: ManualClock;
  let store: DeliveryStore;
  let http: Transport;
  let events: DeliveryWorkerEvent[];
  const workers: DeliveryWorker[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(codes[Math.min(hits++, codes.length - 1)]!);
        res.end();
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
    codes = [500];
    hits = 0;
    clock = new ManualClock(START);
    store = createMemoryDeliveryStore({ clock });
    http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], clock });
    events = [];
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
    await http.close();
  });

  function worker(autoDisable?: DeliveryWorkerOptions["autoDisable"]): DeliveryWorker {
    const created = createDeliveryWorker({
      store,
      transports: { http },
      clock,
      random: () => 0.5,
      onEvent: (event) => events.push(event),
      ...(autoDisable === undefined ? {} : { autoDisable }),
    });
    workers.push(created);
    return created;
  }

  async function endpointWith(retry: RetryPolicy): Promise<string> {
    const endpoint = await store.createEndpoint({
      target: url,
      eventTypes: ["order.*"],
      secrets: [{ secret: generateSecret("standard") }],
      retry,
    });
    return endpoint.id;
  }

  async function dispatch(): Promise<string> {
    const result = await createDispatcher({ store, clock }).dispatch({
      type: "order.created.v1",
      payload: { id: "o_1" },
    });
    return result.deliveryIds[0]!;
  }

  function disabledEvents() {
    return events.filter((e) => e.name === "endpoint:disabled").map((e) => e.payload);
  }

  it("disables after N consecutive failures, stores the reason and stops sending", async () => {
    const endpointId = await endpointWith({ schedule_s: [1, 1, 1, 1, 1] });
    const deliveryId = await dispatch();
    const w = worker({ afterConsecutiveFailures: 3 });
    for (let i = 0; i < 2; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(1_000);
    }
    expect((await store.getEndpoint(endpointId))?.enabled).toBe(true);
    expect(await w.runOnce()).toBe(1);

    const endpoint = await store.getEndpoint(endpointId);
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toBe("auto-disabled: 3 consecutive failed attempts");
    expect(disabledEvents()).toEqual([
      expect.objectContaining({
        endpointId,
        deliveryId,
        attempt: 3,
        reason: "auto-disabled: 3 consecutive failed attempts",
      }),
    ]);

    // The delivery stays queued (retrying) but is not claimed while the endpoint is disabled.
    clock.advance(60_000);
    expect(await w.runOnce()).toBe(0);
    expect(hits).toBe(3);
    expect((await store.getDelivery(deliveryId))?.delivery.status).toBe("retrying");
  });

  it("a success in between resets the streak", async () => {
    codes = [500, 500, 200, 500, 500];
    const endpointId = await endpointWith({ schedule_s: [1, 1, 1, 1] });
    const w = worker({ afterConsecutiveFailures: 3 });
    await dispatch();
    for (let i = 0; i < 3; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(1_000);
    }
    await dispatch();
    for (let i = 0; i < 2; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(1_000);
    }
    expect(hits).toBe(5);
    const endpoint = await store.getEndpoint(endpointId);
    expect(endpoint?.enabled).toBe(true);
    expect(endpoint?.consecutiveFailures).toBe(2);
    expect(disabledEvents()).toEqual([]);
  });

  it("disables once every attempt has failed for 5 days (the default)", async () => {
    const endpointId = await endpointWith({ schedule_s: [3 * 86_400, 2 * 86_400, 86_400] });
    const deliveryId = await dispatch();
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    clock.advance(3 * DAY);
    expect(await w.runOnce()).toBe(1);
    expect((await store.getEndpoint(endpointId))?.enabled).toBe(true);
    clock.advance(2 * DAY);
    expect(await w.runOnce()).toBe(1);

    const reason = `auto-disabled: every attempt failed for 5 days (since ${new Date(START).toISOString()})`;
    const endpoint = await store.getEndpoint(endpointId);
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toBe(reason);
    expect(disabledEvents()).toEqual([expect.objectContaining({ deliveryId, reason })]);

    clock.advance(DAY);
    expect(await w.runOnce()).toBe(0);
    expect(hits).toBe(3);
  });

  it("also disables when the span is reached by the attempt that dead-letters", async () => {
    const endpointId = await endpointWith({ schedule_s: [5 * 86_400] });
    const deliveryId = await dispatch();
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    clock.advance(5 * DAY);
    expect(await w.runOnce()).toBe(1);
    expect((await store.getDelivery(deliveryId))?.delivery.status).toBe("dead_lettered");
    expect((await store.getEndpoint(endpointId))?.enabled).toBe(false);
    expect(
      events
        .map((e) => e.name)
        .filter((n) => n === "delivery:dead_lettered" || n === "endpoint:disabled"),
    ).toEqual(["delivery:dead_lettered", "endpoint:disabled"]);
  });

  it("runs the documented configuration", async () => {
    const endpointId = await endpointWith({ schedule_s: [1, 1, 1] });
    await dispatch();
    const alerts: string[] = [];
    // #region auto-disable-example
    const worker = createDeliveryWorker({
      store,
      transports: { http },
      clock,
      // Svix's rule (every attempt failing for 5 days) plus a count for endpoints that fail fast.
      autoDisable: { afterFailingMs: 5 * 24 * 60 * 60 * 1000, afterConsecutiveFailures: 2 },
    });
    worker.on("endpoint:disabled", (e) => alerts.push(`${e.endpointId}: ${e.reason}`));
    // #endregion auto-disable-example
    workers.push(worker);
    await worker.runOnce();
    clock.advance(1_200); // the 1 s retry, at most +20 % jitter
    await worker.runOnce();
    expect(alerts).toEqual([`${endpointId}: auto-disabled: 2 consecutive failed attempts`]);
  });

  it("autoDisable: false never disables", async () => {
    const endpointId = await endpointWith({ schedule_s: [3 * 86_400, 3 * 86_400, 3 * 86_400] });
    await dispatch();
    const w = worker(false);
    for (let i = 0; i < 4; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(3 * DAY);
    }
    const endpoint = await store.getEndpoint(endpointId);
    expect(endpoint?.enabled).toBe(true);
    expect(endpoint?.consecutiveFailures).toBe(4);
    expect(disabledEvents()).toEqual([]);
  });
});
