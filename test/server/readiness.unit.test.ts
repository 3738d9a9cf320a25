// /health and /ready as an operator's probe sees them: a timestamp on both; /ready's checks by
// name (the database always, registered ones beside it), 503 when a required one fails or the
// server is stopping, an optional failure only reported, and never a driver's text in the answer.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { buildApp } from "../../packages/server/src/server/app.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createServiceMetrics } from "../../packages/server/src/server/metrics.js";
import type { ReadinessCheck } from "../../packages/server/src/server/readiness.js";
import { systemClock } from "../../packages/webhooks/src/core/clock.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";

const LEAK = "postgres://admin:hunter2@10.0.0.7/db";

let app: Awaited<ReturnType<typeof buildApp>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(
  options: {
    store?: DeliveryStore;
    readinessChecks?: Record<string, ReadinessCheck>;
    isStopping?: () => boolean;
  } = {},
) {
  const store = options.store ?? createMemoryDeliveryStore();
  const sources = createSourceCache(store);
  const committer = createIngestBatches({
    store,
    defaultRetry: DEFAULT_RETRY_POLICY,
    dialect: "sqlite",
  });
  app = await buildApp({
    store,
    metrics: createServiceMetrics(store),
    logger: pino({ level: "silent" }),
    version: "9.9.9",
    apiKey: null,
    ingestor: createIngestor({ sources, committer }),
    dispatcher: createDispatcher({ store, clock: systemClock }),
    sources,
    clock: systemClock,
    ...(options.readinessChecks === undefined ? {} : { readinessChecks: options.readinessChecks }),
    ...(options.isStopping === undefined ? {} : { isStopping: options.isStopping }),
  });
  return async (url: string) => {
    const before = Date.now();
    const response = await app!.inject({ method: "GET", url });
    const body = response.json();
    // The answer's own time, taken while answering.
    const at = Date.parse(body.timestamp);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
    expect(body.timestamp).toBe(new Date(at).toISOString());
    return { status: response.statusCode, body, text: response.body };
  };
}

const ok: ReadinessCheck = { check: async () => {} };
const failing = (error: unknown, required?: boolean): ReadinessCheck => ({
  check: async () => {
    throw error;
  },
  ...(required === undefined ? {} : { required }),
});

describe("/health", () => {
  it("answers status, timestamp and version", async () => {
    const get = await serve();
    const health = await get("/health");
    expect(health).toMatchObject({ status: 200, body: { status: "ok", version: "9.9.9" } });
    expect(Object.keys(health.body).sort()).toEqual(["status", "timestamp", "version"]);
  });
});

describe("/ready", () => {
  it("checks the database and each registered check; an optional failure is only reported", async () => {
    const get = await serve({
      readinessChecks: { nats: ok, cache: failing(new Error(LEAK), false) },
    });
    const ready = await get("/ready");
    expect(ready).toMatchObject({ status: 200, body: { status: "ready" } });
    expect(ready.body.checks).toEqual({
      database: { status: "ok", required: true, duration_ms: expect.any(Number) },
      nats: { status: "ok", required: true, duration_ms: expect.any(Number) },
      cache: {
        status: "failed",
        required: false,
        duration_ms: expect.any(Number),
        code: "check.failed",
        message: "The check failed; the server log has the details",
      },
    });
    expect(ready.text).not.toContain("hunter2");
  });

  it("answers 503 with the failed required check's code, the others still reported", async () => {
    const get = await serve({
      readinessChecks: {
        nats: failing(new HeraldError("transport.unavailable", `cannot reach ${LEAK}`)),
      },
    });
    const ready = await get("/ready");
    expect(ready).toMatchObject({
      status: 503,
      body: {
        status: "not_ready",
        checks: {
          database: { status: "ok" },
          nats: { status: "failed", required: true, code: "transport.unavailable" },
        },
        error: {
          code: "transport.unavailable",
          message: "The check failed; the server log has the details",
        },
      },
    });
    expect(ready.text).not.toContain("hunter2");
  });

  it("a check that does not answer in time fails as check.timeout", async () => {
    const get = await serve({
      readinessChecks: { slow: { check: () => new Promise<void>(() => {}) } },
    });
    const started = Date.now();
    const ready = await get("/ready");
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(ready).toMatchObject({
      status: 503,
      body: { checks: { slow: { status: "failed", code: "check.timeout" } } },
    });
  }, 10_000);

  it("a database that cannot take writes is store.unavailable, without the driver's text", async () => {
    const memory = createMemoryDeliveryStore();
    const store: DeliveryStore = {
      ...memory,
      ready: () => Promise.reject(new HeraldError("store.unavailable", `disk full at ${LEAK}`)),
    };
    const ready = await (await serve({ store }))("/ready");
    expect(ready).toMatchObject({
      status: 503,
      body: {
        status: "not_ready",
        checks: { database: { status: "failed", code: "store.unavailable" } },
        error: {
          code: "store.unavailable",
          message: "The store cannot take writes; the server log has the details",
        },
      },
    });
    expect(ready.text).not.toContain("hunter2");
  });

  it("answers 503 server.shutting_down while stopping, without running the checks", async () => {
    let ran = 0;
    const get = await serve({
      isStopping: () => true,
      readinessChecks: { counted: { check: async () => void ran++ } },
    });
    const ready = await get("/ready");
    expect(ready).toMatchObject({
      status: 503,
      body: { status: "stopping", checks: {}, error: { code: "server.shutting_down" } },
    });
    expect(ran).toBe(0);
  });

  it("refuses a registered check named database", async () => {
    await expect(serve({ readinessChecks: { database: ok } })).rejects.toThrow(/built in/);
  });
});
