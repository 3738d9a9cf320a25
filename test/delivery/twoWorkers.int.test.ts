// Acceptance: two worker processes on one PostgreSQL schema share 1,000 deliveries with no
// double send while their leases hold (FOR UPDATE SKIP LOCKED): the receiver sees each
// `webhook-id` exactly once, each delivery has one attempt, and both processes did some of the
// work. Leases (60 s) outlast the run, so no expiry can excuse a duplicate. Needs the built dist/.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import {
  allDeliveries,
  builtWorker,
  killAllWorkers,
  startCountingReceiver,
  startWorkerProcess,
  waitUntil,
} from "./workerProcesses.js";

const MESSAGES = 1000;
const available = await serviceAvailable("postgres");

describe.skipIf(!available)("two worker processes on one PostgreSQL", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    if (!existsSync(builtWorker)) {
      throw new Error(`${builtWorker} is missing: run \`npm run build\` first`);
    }
    schema = await createTestSchema("twoworkers");
  });

  afterAll(async (suite) => {
    killAllWorkers();
    await schema?.dropIfPassed(suite);
  });

  it("1,000 deliveries: each sent exactly once, both processes sending", async () => {
    const store = createPostgresDeliveryStore(schema.pool);
    // A few ms per answer: fast, yet slow enough that neither process drains the queue alone.
    const receiver = await startCountingReceiver(() => 2 + Math.floor(Math.random() * 8));
    try {
      await store.createEndpoint({
        target: receiver.url,
        eventTypes: ["order.*"],
        secrets: [{ secret: generateSecret("standard") }],
      });
      const env = {
        WORKER_BACKEND: "postgres",
        HERALD_PG_URL: schema.url,
        HERALD_PG_SCHEMA: schema.schema,
        WORKER_CONCURRENCY: "20",
        WORKER_LEASE_MS: "60000",
        WORKER_POLL_MS: "20",
      };
      const workers = ["worker_a", "worker_b"].map((owner) =>
        startWorkerProcess({ ...env, WORKER_OWNER: owner }),
      );
      // Both claim from the start: dispatch only once both are polling.
      await Promise.all(workers.map((w) => w.ready));

      const dispatcher = createDispatcher({ store });
      const messageIds: string[] = [];
      for (let n = 0; n < MESSAGES; n += 10) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            dispatcher.dispatch({ type: "order.created.v1", payload: { n: n + i } }),
          ),
        );
        messageIds.push(...batch.map((result) => result.messageId));
      }

      await waitUntil(
        async () => {
          const stats = await store.deliveryStats();
          return Object.values(stats.depth).every((count) => count === 0);
        },
        { timeoutMs: 40_000, intervalMs: 100, what: "every delivery delivered" },
      );
      const statuses = await Promise.all(workers.map((w) => w.stop()));

      const deliveries = await allDeliveries(store);
      expect(deliveries).toHaveLength(MESSAGES);
      expect(deliveries.filter((d) => d.status !== "delivered")).toEqual([]);
      expect(deliveries.filter((d) => d.attempts !== 1)).toEqual([]);

      const sentTwice = [...receiver.seen].filter(([, count]) => count !== 1);
      expect(sentTwice, "webhook-ids received more than once").toEqual([]);
      expect(new Set(receiver.seen.keys())).toEqual(new Set(messageIds));
      expect(receiver.total()).toBe(MESSAGES);

      const [a, b] = statuses as [(typeof statuses)[0], (typeof statuses)[0]];
      console.log(
        `  two workers: ${a.owner} sent ${a.attempts}, ${b.owner} sent ${b.attempts} ` +
          `(${receiver.total()} requests for ${MESSAGES} messages, 0 duplicates)`,
      );
      expect(a.attempts + b.attempts).toBe(MESSAGES);
      expect(a.attempts, `${a.owner} sent ${a.attempts}`).toBeGreaterThan(0);
      expect(b.attempts, `${b.owner} sent ${b.attempts}`).toBeGreaterThan(0);
      expect(a.errors + b.errors).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
