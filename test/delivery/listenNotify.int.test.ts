// LISTEN/NOTIFY wake-up on a real PostgreSQL server: a worker polling once a minute still sends
// a freshly dispatched message at once, schemas sharing the database do not wake each other, and
// with two listeners each notice is one listener's turn to claim (the other's backup).
import { createServer, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createDeliveryWorker,
  type DeliveryWorker,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { DeliveryStore, WakeUp } from "../../packages/core/src/store/deliveryPorts.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { LISTENERS_REFRESH_MS } from "../../packages/postgres/src/store/postgres/deliveryWakeUps.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe.skipIf(!available)("postgres LISTEN/NOTIFY wake-up", () => {
  let a: TestSchema;
  let b: TestSchema;
  let storeA: DeliveryStore;
  let storeB: DeliveryStore;
  let server: Server;
  let url: string;
  /** performance.now() of each request the receiver got. */
  const hits: number[] = [];
  let http: Transport;
  const workers: DeliveryWorker[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([createTestSchema("listen_a"), createTestSchema("listen_b")]);
    storeA = createPostgresDeliveryStore(a.pool);
    storeB = createPostgresDeliveryStore(b.pool);
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        hits.push(performance.now());
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
    http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] });
    for (const store of [storeA, storeB]) {
      await store.createEndpoint({
        target: url,
        eventTypes: ["order.*"],
        secrets: [{ secret: generateSecret("standard") }],
      });
    }
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
  });

  afterAll(async (suite) => {
    await http?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await a?.dropIfPassed(suite);
    await b?.dropIfPassed(suite);
  });

  function dispatch(store: DeliveryStore, idempotencyKey?: string) {
    return createDispatcher({ store }).dispatch({
      type: "order.created.v1",
      payload: { id: "o_1" },
      idempotencyKey: idempotencyKey ?? null,
    });
  }

  it("wakes a worker polling every 60 s as soon as a message is dispatched", async () => {
    const worker = createDeliveryWorker({
      store: storeA,
      transports: { http },
      pollIntervalMs: 60_000,
    });
    workers.push(worker);
    const sent: string[] = [];
    worker.on("delivery:succeeded", (e) => sent.push(e.deliveryId));
    worker.start();
    await sleep(300); // the first (empty) claim is over: only a wake-up can claim again

    hits.length = 0;
    const dispatchedAt = performance.now();
    const { deliveryIds } = await dispatch(storeA);
    await until(() => sent.length === 1, 2_000);
    expect(sent).toEqual(deliveryIds);
    expect(hits).toHaveLength(1);
    expect(hits[0]! - dispatchedAt).toBeLessThan(2_000);
    expect((await storeA.getDelivery(deliveryIds[0]!))?.delivery.status).toBe("delivered");
  });

  it("notifies listeners of the same schema only, once per created message", async () => {
    let wokenA = 0;
    const stop = await storeA.wakeUps!(() => wokenA++);
    try {
      await dispatch(storeB);
      await sleep(300);
      expect(wokenA).toBe(0);

      await dispatch(storeA, "key_1");
      await until(() => wokenA === 1, 2_000);
      await dispatch(storeA, "key_1"); // a duplicate creates nothing, so wakes nobody
      await sleep(300);
      expect(wokenA).toBe(1);
    } finally {
      await stop();
    }
    await dispatch(storeA);
    await sleep(300);
    expect(wokenA).toBe(1);
  });

  it("gives each notice to one of two listeners, the other a backup, and all to one once the other stops", async () => {
    const heard: { a: WakeUp[]; b: WakeUp[] } = { a: [], b: [] };
    const stopA = await storeA.wakeUps!((w) => heard.a.push(w));
    let stopB: (() => Promise<void>) | null = await storeA.wakeUps!((w) => heard.b.push(w));
    try {
      await sleep(LISTENERS_REFRESH_MS + 1_000); // both have read that the other listens
      const notices = 16;
      for (let i = 1; i <= notices; i++) {
        await dispatch(storeA);
        await until(() => heard.a.length === i && heard.b.length === i, 2_000);
      }
      for (let i = 0; i < notices; i++) {
        expect([heard.a[i], heard.b[i]].sort()).toEqual(["backup", "claim"]);
      }
      expect(heard.a).toContain("claim");
      expect(heard.b).toContain("claim");

      // A notice without a turn (as older Herald sends) wakes both.
      await a.pool.query("SELECT pg_notify('herald_deliveries', current_schema())");
      await until(() => heard.a.length === notices + 1 && heard.b.length === notices + 1, 2_000);
      expect([heard.a.at(-1), heard.b.at(-1)]).toEqual(["claim", "claim"]);

      await stopB();
      stopB = null;
      await sleep(LISTENERS_REFRESH_MS + 1_000); // A has read that it listens alone
      heard.a.length = 0;
      for (let i = 1; i <= 4; i++) {
        await dispatch(storeA);
        await until(() => heard.a.length === i, 2_000);
      }
      expect(heard.a).toEqual(["claim", "claim", "claim", "claim"]);
    } finally {
      await stopA();
      await stopB?.();
    }
  });

  it("two workers polling once a minute deliver each message once with about one claim per message", async () => {
    let claims = 0;
    let claimed = 0;
    const counting = (store: DeliveryStore): DeliveryStore =>
      Object.assign(Object.create(store) as DeliveryStore, {
        claimDueDeliveries: async (options: Parameters<DeliveryStore["claimDueDeliveries"]>[0]) => {
          const got = await store.claimDueDeliveries(options);
          claims++;
          claimed += got.length;
          return got;
        },
      });
    const sent: string[] = [];
    for (let i = 0; i < 2; i++) {
      const worker = createDeliveryWorker({
        store: counting(storeA),
        transports: { http },
        pollIntervalMs: 60_000,
      });
      workers.push(worker);
      worker.on("delivery:succeeded", (e) => sent.push(e.deliveryId));
      worker.start();
    }
    // Both listeners know of each other; what earlier tests left due has been claimed at start.
    await sleep(LISTENERS_REFRESH_MS + 1_000);
    claims = 0;
    claimed = 0;
    sent.length = 0;
    const messages = 30;
    const ids: string[] = [];
    // One after another: each worker's own turns then come well within BACKUP_CLAIM_MS of the
    // other's, so backups stay rare even on a loaded machine.
    for (let i = 0; i < messages; i++) ids.push(...(await dispatch(storeA)).deliveryIds);
    await until(() => sent.length === messages, 5_000);
    await sleep(300);
    expect(sent.sort()).toEqual(ids.sort());
    expect(claimed).toBe(messages);
    // Every notice woke both workers before: two claims per message, one of them empty.
    expect(claims).toBeLessThanOrEqual(Math.ceil(messages * 1.3));
  });
});
