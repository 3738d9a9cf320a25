// attachWorkerLogger: pino lines scoped by delivery/endpoint/message, at the right levels, with
// no secret, signature, header or body in them; a broken logger never affects delivery.
import { createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createDeliveryWorker,
  type DeliveryWorker,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import { attachWorkerLogger } from "../../packages/core/src/delivery/workerLogging.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";

const START = Date.UTC(2025, 0, 1);
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

interface Line {
  level: number;
  msg: string;
  event: string;
  deliveryId?: string;
  endpointId?: string;
  messageId?: string;
  [key: string]: unknown;
}

function memoryLogger(): { logger: Logger; raw: string[]; lines: () => Line[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      raw.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  return {
    logger,
    raw,
    lines: () =>
      raw
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Line),
  };
}

describe("attachWorkerLogger", () => {
  let server: Server;
  let base: string;
  const signatures: string[] = [];
  let clock: ManualClock;
  let store: DeliveryStore;
  let http: Transport;
  let worker: DeliveryWorker;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        signatures.push(String(req.headers["webhook-signature"] ?? ""));
        res.writeHead(req.url === "/fail" ? 500 : 200);
        res.end(req.url === "/fail" ? "receiver body: boom" : "receiver body: ok");
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
    clock = new ManualClock(START);
    store = createMemoryDeliveryStore({ clock });
    http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], clock });
    worker = createDeliveryWorker({ store, transports: { http }, clock, random: () => 0.5 });
    signatures.length = 0;
  });

  afterEach(async () => {
    await worker.stop();
    await http.close();
  });

  async function dispatch() {
    const okSecret = generateSecret("standard");
    const failSecret = generateSecret("standard");
    const ok = await store.createEndpoint({
      target: `${base}/ok`,
      eventTypes: ["order.*"],
      secrets: [{ secret: okSecret }],
      retry: { schedule_s: [5, 10] },
    });
    const fail = await store.createEndpoint({
      target: `${base}/fail`,
      eventTypes: ["order.*"],
      secrets: [{ secret: failSecret }],
      retry: { schedule_s: [5, 10] },
    });
    const result = await createDispatcher({ store, clock }).dispatch({
      type: "order.created.v1",
      payload: { id: "o_1" },
    });
    return { ok, fail, messageId: result.messageId, secrets: [okSecret, failSecret] };
  }

  it("logs each event scoped by delivery, endpoint and message, at its level", async () => {
    const { logger, raw, lines } = memoryLogger();
    attachWorkerLogger(worker, logger);
    const { ok, fail, messageId, secrets } = await dispatch();

    expect(await worker.runOnce()).toBe(2);

    const all = lines();
    const deliveryEvents = all.filter((line) => line.event.startsWith("delivery:"));
    expect(deliveryEvents.length).toBe(4);
    for (const line of deliveryEvents) {
      expect(line.messageId).toBe(messageId);
      expect(line.deliveryId).toMatch(/^dlv_/);
      expect([ok.id, fail.id]).toContain(line.endpointId);
    }

    const okLines = all.filter((line) => line.endpointId === ok.id);
    expect(okLines.map((line) => [line.level, line.event, line.msg])).toEqual([
      [LEVELS.debug, "delivery:attempt", "delivery attempt"],
      [LEVELS.info, "delivery:succeeded", "delivery succeeded"],
    ]);
    expect(okLines[1]).toMatchObject({ attempt: 1, statusCode: 200 });
    expect(typeof okLines[1]!.durationMs).toBe("number");

    const failLines = all.filter((line) => line.endpointId === fail.id);
    expect(failLines.map((line) => [line.level, line.event, line.msg])).toEqual([
      [LEVELS.debug, "delivery:attempt", "delivery attempt"],
      [LEVELS.warn, "delivery:retry_scheduled", "delivery retry scheduled"],
    ]);
    expect(failLines[0]).toMatchObject({ attempt: 1, statusCode: 500, succeeded: false });
    expect(failLines[1]).toMatchObject({
      attempt: 1,
      reason: "http_error",
      delayMs: 5000,
      nextAttemptAt: new Date(START + 5000).toISOString(),
    });

    // The receiver saw signed requests; none of that reaches the log.
    expect(signatures.filter((s) => s !== "").length).toBe(2);
    const text = raw.join("");
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.replace(/^whsec_/, ""));
    }
    for (const signature of signatures) expect(text).not.toContain(signature);
    expect(text.toLowerCase()).not.toContain("webhook-signature");
    expect(text).not.toContain("receiver body");
  });

  it("logs the dead letter at error level and stops when detached", async () => {
    const { logger, lines } = memoryLogger();
    const detach = attachWorkerLogger(worker, logger);
    await store.createEndpoint({
      target: `${base}/fail`,
      eventTypes: ["order.*"],
      secrets: [{ secret: generateSecret("standard") }],
      retry: { schedule_s: [] },
    });
    await createDispatcher({ store, clock }).dispatch({ type: "order.created.v1", payload: {} });

    await worker.runOnce();
    const dead = lines().find((line) => line.event === "delivery:dead_lettered");
    expect(dead).toMatchObject({ level: LEVELS.error, msg: "delivery dead-lettered", attempt: 1 });
    expect(String(dead!.reason)).toMatch(/max attempts/);

    detach();
    const before = lines().length;
    await createDispatcher({ store, clock }).dispatch({ type: "order.created.v1", payload: {} });
    await worker.runOnce();
    expect(lines().length).toBe(before);
  });

  it("a logger that throws never affects delivery", async () => {
    const { logger } = memoryLogger();
    const broken = new Proxy(logger, {
      get(target, key, receiver) {
        if (key === "child") {
          return () => {
            throw new Error("logger down");
          };
        }
        return Reflect.get(target, key, receiver);
      },
    });
    attachWorkerLogger(worker, broken);
    const { ok } = await dispatch();

    expect(await worker.runOnce()).toBe(2);
    const delivered = await store.listDeliveries({ endpointId: ok.id });
    expect(delivered.data.map((d) => d.status)).toEqual(["delivered"]);
  });
});
