// Acceptance: a worker process SIGKILLed with 200 deliveries in flight, then restarted, leaves
// every delivery `delivered`; a receiver counting by `webhook-id` sees every message at least
// once, and the duplicates (sends whose outcome the killed worker never recorded) are reported.
// SQLite (file shared with the child) and PostgreSQL (a schema). Needs the built dist/.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import {
  allDeliveries,
  builtWorker,
  killAllWorkers,
  startCountingReceiver,
  startWorkerProcess,
  waitUntil,
} from "./workerProcesses.js";

const MESSAGES = 200;
const LEASE_MS = 2000;
const pgAvailable = await serviceAvailable("postgres");

interface Backend {
  store: DeliveryStore;
  /** Tells the worker process where the store is. */
  env: Record<string, string>;
}

/** Dispatches, starts a worker, kills it mid-flight, restarts one; returns the duplicates. */
async function crashAndRestart({ store, env }: Backend): Promise<number> {
  // 200–500 ms per answer, so with 50 sends at once many are in flight when the kill lands.
  const receiver = await startCountingReceiver(() => 200 + Math.floor(Math.random() * 300));
  try {
    const endpoint = await store.createEndpoint({
      target: receiver.url,
      eventTypes: ["order.*"],
      secrets: [{ secret: generateSecret("standard") }],
    });
    const dispatcher = createDispatcher({ store });
    const messageIds: string[] = [];
    for (let n = 0; n < MESSAGES; n++) {
      const result = await dispatcher.dispatch({ type: "order.created.v1", payload: { n } });
      expect(result.deliveryIds).toHaveLength(1);
      messageIds.push(result.messageId);
    }

    const workerEnv = {
      ...env,
      WORKER_CONCURRENCY: "50",
      WORKER_LEASE_MS: String(LEASE_MS),
      WORKER_POLL_MS: "50",
    };
    const first = startWorkerProcess({ ...workerEnv, WORKER_OWNER: "worker_first" });
    await first.ready;
    await waitUntil(() => receiver.total() >= 60 && receiver.inFlight() >= 20, {
      timeoutMs: 15_000,
      intervalMs: 5,
      what: "the first worker sending 60 messages with 20 in flight",
    });
    const seenAtKill = receiver.total();
    const inFlightAtKill = receiver.inFlight();
    await first.kill();
    expect(seenAtKill).toBeLessThan(MESSAGES);
    const delivering = await store.listDeliveries({ status: "delivering", limit: 1000 });
    // What the killed worker held: leased, some mid-send; only lease expiry frees them.
    expect(delivering.data.length).toBeGreaterThan(0);
    expect(delivering.data.every((d) => d.leaseOwner === "worker_first")).toBe(true);

    const second = startWorkerProcess({ ...workerEnv, WORKER_OWNER: "worker_second" });
    await second.ready;
    await waitUntil(
      async () => {
        const stats = await store.deliveryStats();
        return Object.values(stats.depth).every((count) => count === 0);
      },
      { timeoutMs: 20_000, intervalMs: 100, what: "every delivery delivered after the restart" },
    );
    const status = await second.stop();

    const deliveries = await allDeliveries(store);
    expect(deliveries).toHaveLength(MESSAGES);
    expect(deliveries.every((d) => d.endpointId === endpoint.id)).toBe(true);
    expect(deliveries.filter((d) => d.status !== "delivered")).toEqual([]);
    expect(deliveries.some((d) => d.status === "delivering")).toBe(false);

    const missing = messageIds.filter((id) => (receiver.seen.get(id) ?? 0) < 1);
    expect(missing, "messages the receiver never saw").toEqual([]);
    expect(receiver.seen.size).toBe(MESSAGES);
    const duplicates = receiver.total() - MESSAGES;
    const twice = [...receiver.seen.values()].filter((count) => count > 1).length;
    console.log(
      `  worker crash (${env.WORKER_BACKEND}): ${receiver.total()} requests for ${MESSAGES} messages, ` +
        `${duplicates} duplicates (${twice} messages sent more than once); at the kill the ` +
        `receiver had seen ${seenAtKill} with ${inFlightAtKill} in flight, ` +
        `${delivering.data.length} deliveries leased; the restarted worker made ${status.attempts} attempts`,
    );
    // A duplicate is a send the killed worker made but never recorded: at most what it held.
    expect(
      duplicates,
      `duplicates: ${duplicates} (at most the ${delivering.data.length} leased at the kill)`,
    ).toBeLessThanOrEqual(delivering.data.length);
    expect(status.errors).toBe(0);
    return duplicates;
  } finally {
    await receiver.close();
  }
}

function requireBuiltWorker(): void {
  if (!existsSync(builtWorker)) {
    throw new Error(`${builtWorker} is missing: run \`npm run build\` first`);
  }
}

describe("sqlite delivery worker crash (SIGKILL) and restart", () => {
  beforeAll(requireBuiltWorker);
  afterAll(killAllWorkers);

  it("every delivery ends delivered, each message seen ≥ 1 time, duplicates reported", async () => {
    const file = migratedSqlite("deliveries.db");
    try {
      const store = createSqliteDeliveryStore(file.db);
      const duplicates = await crashAndRestart({
        store,
        env: { WORKER_BACKEND: "sqlite", HERALD_DB: file.path },
      });
      expect(duplicates).toBeGreaterThanOrEqual(0);
    } finally {
      file.cleanup();
    }
  }, 40_000);
});

describe.skipIf(!pgAvailable)("postgres delivery worker crash (SIGKILL) and restart", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    requireBuiltWorker();
    schema = await createTestSchema("workercrash");
  });

  // A failed run keeps its schema for inspection.
  afterAll(async (suite) => {
    killAllWorkers();
    await schema?.dropIfPassed(suite);
  });

  it("every delivery ends delivered, each message seen ≥ 1 time, duplicates reported", async () => {
    const duplicates = await crashAndRestart({
      store: createPostgresDeliveryStore(schema.pool),
      env: {
        WORKER_BACKEND: "postgres",
        HERALD_PG_URL: schema.url,
        HERALD_PG_SCHEMA: schema.schema,
      },
    });
    expect(duplicates).toBeGreaterThanOrEqual(0);
  }, 40_000);
});
