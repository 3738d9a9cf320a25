// The request deadline in-process: with the store hanging (every call waits for a "thaw"), a
// webhook, a management call and /ready are answered 503 store.unavailable with Retry-After
// within the deadline, /metrics still answers (store_up 0), and a webhook whose batch commits
// after its 503 is answered as a duplicate when retried. The backstop answers a handler that
// never settles. (Against a frozen PostgreSQL: test/e2e/postgresFreeze.e2e.test.ts.)
import Fastify, { type InjectOptions } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { storeDeadlines } from "../../packages/core/src/store/storeDeadlines.js";
import { buildApp } from "../../packages/server/src/server/app.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createServiceMetrics } from "../../packages/server/src/server/metrics.js";
import {
  addRequestDeadline,
  storeWithWaitLimit,
} from "../../packages/server/src/server/requestDeadline.js";
import { systemClock } from "../../packages/webhooks/src/core/clock.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";

const SECRET = "whsec_deadline_test_secret";
const DEADLINES = storeDeadlines(600);

/** The memory store, made to hang: while frozen, every call waits for thaw(), then runs. */
function freezable(store: DeliveryStore) {
  let frozen: { until: Promise<void>; thaw: () => void } | null = null;
  const wrapped = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (frozen !== null) await frozen.until;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: wrapped,
    freeze() {
      let thaw = () => {};
      const until = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      frozen = { until, thaw };
    },
    thaw() {
      frozen?.thaw();
      frozen = null;
    },
  };
}

function webhook(id: string) {
  const body = JSON.stringify({ id, type: "charge.succeeded" });
  const headers = signWebhook({ scheme: "stripe", secret: SECRET, body });
  return { body, headers: { ...headers, "content-type": "application/json" } };
}

describe("request deadline (service wiring)", () => {
  const db = freezable(createMemoryDeliveryStore());
  const batches = createIngestBatches({
    store: db.store,
    defaultRetry: DEFAULT_RETRY_POLICY,
    dialect: "postgres",
    giveUpAfterMs: DEADLINES.storeWaitMs,
  });
  const httpStore = storeWithWaitLimit(db.store, DEADLINES.storeWaitMs);
  const sources = createSourceCache(httpStore);
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    await db.store.upsertSource({
      name: "stripe",
      scheme: "stripe",
      secrets: [SECRET],
      typeFrom: { body: "type" },
    });
    app = await buildApp({
      store: httpStore,
      metrics: createServiceMetrics(httpStore),
      logger: pino({ level: "silent" }),
      version: "test",
      apiKey: null,
      ingestor: createIngestor({ sources, committer: batches }),
      dispatcher: createDispatcher({ store: httpStore, clock: systemClock }),
      sources,
      clock: systemClock,
      requestDeadline: DEADLINES,
    });
  });
  afterAll(async () => {
    db.thaw();
    await app.close();
  });

  it("answers 503 store.unavailable with Retry-After in time, and the retry of a late commit is a duplicate", async () => {
    const ok = webhook("evt_before");
    const accepted = await app.inject({ method: "POST", url: "/webhooks/stripe", ...ok });
    expect(accepted.statusCode).toBe(202);

    db.freeze();
    const hung = webhook("evt_hung");
    const timed = async (request: InjectOptions) => {
      const started = performance.now();
      const response = await app.inject(request);
      return { response, ms: performance.now() - started };
    };
    const answers = [
      await timed({ method: "POST", url: "/webhooks/stripe", ...hung }),
      await timed({ method: "GET", url: "/v1/endpoints" }),
      await timed({ method: "GET", url: "/ready" }),
    ];
    for (const [i, { response, ms }] of answers.entries()) {
      expect(response.statusCode).toBe(503);
      const error = { error: { code: "store.unavailable", message: expect.any(String) } };
      // /ready also says which check failed (test/server/readiness.unit.test.ts).
      if (i === 2) expect(response.json()).toMatchObject({ status: "not_ready", ...error });
      else expect(response.json()).toEqual(error);
      expect(response.headers["retry-after"]).toBe(String(DEADLINES.retryAfterS));
      expect(ms).toBeLessThan(DEADLINES.requestMs + 300);
    }
    // /metrics still answers, saying the store did not.
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^herald_store_up 0$/m);

    db.thaw();
    await batches.drain();
    // The hung webhook's batch was being written: it committed after its 503, dedupe key and
    // all, so the provider's retry names that message instead of storing a second one.
    const retry = await app.inject({ method: "POST", url: "/webhooks/stripe", ...hung });
    expect(retry.statusCode).toBe(200);
    const { message_id, status } = retry.json() as { message_id: string; status: string };
    expect(status).toBe("duplicate");
    expect(
      (await app.inject({ method: "GET", url: `/v1/messages/${message_id}` })).statusCode,
    ).toBe(200);
  });
});

describe("request deadline (backstop)", () => {
  it("answers a handler that never settles at the deadline, and only that one", async () => {
    const app = Fastify();
    addRequestDeadline(app, { requestMs: 300, retryAfterS: 2 });
    app.get("/hangs", () => new Promise(() => {}));
    app.get("/fast", async () => ({ ok: true }));
    app.get("/busy", async (_request, reply) => reply.code(503).send({ busy: true }));
    try {
      const started = performance.now();
      const hangs = await app.inject({ method: "GET", url: "/hangs" });
      const ms = performance.now() - started;
      expect(hangs.statusCode).toBe(503);
      expect(hangs.json()).toEqual({
        error: { code: "store.unavailable", message: expect.stringContaining("300 ms") },
      });
      expect(hangs.headers["retry-after"]).toBe("2");
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(800);

      const fast = await app.inject({ method: "GET", url: "/fast" });
      expect(fast.statusCode).toBe(200);
      expect(fast.headers["retry-after"]).toBeUndefined();
      // Every 503 says when to come back.
      const busy = await app.inject({ method: "GET", url: "/busy" });
      expect(busy.headers["retry-after"]).toBe("2");
    } finally {
      await app.close();
    }
  });
});
