// The worker's claim loop on the in-memory store, polling once a minute so that only wake-ups
// and finishing sends can make it claim: a delivered message costs one claim (no empty claim
// after each send), and a due delivery is claimed within tens of milliseconds into the slots
// that slow sends leave free, not at the next poll. A `backup` wake-up (another worker's turn)
// claims only when the worker starts no claim of its own within BACKUP_CLAIM_MS.
import { afterEach, describe, expect, it } from "vitest";
import {
  BACKUP_CLAIM_MS,
  createDeliveryWorker,
  type DeliveryWorker,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createFunctionTransport } from "../../packages/core/src/delivery/transports/function.js";
import type { WakeUp } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import type { DeliveryStore } from "../../packages/core/src/store/ports.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The memory store, counting claims (and how many deliveries each took). */
function countingStore(): { store: DeliveryStore; claims: number[] } {
  const store = createMemoryDeliveryStore();
  const claims: number[] = [];
  const claimDueDeliveries: DeliveryStore["claimDueDeliveries"] = async (options) => {
    const claimed = await store.claimDueDeliveries(options);
    claims.push(claimed.length);
    return claimed;
  };
  return {
    store: Object.assign(Object.create(store) as DeliveryStore, { claimDueDeliveries }),
    claims,
  };
}

/** countingStore whose wake-ups the test sends itself (the memory store's own are not used). */
function wakeableStore(): {
  store: DeliveryStore;
  claims: number[];
  wakeUp: (wakeUp: WakeUp) => void;
} {
  const counting = countingStore();
  let listener: ((wakeUp: WakeUp) => void) | null = null;
  const wakeUps: NonNullable<DeliveryStore["wakeUps"]> = async (next) => {
    listener = next;
    return async () => {
      listener = null;
    };
  };
  return {
    store: Object.assign(Object.create(counting.store) as DeliveryStore, { wakeUps }),
    claims: counting.claims,
    wakeUp: (wakeUp) => listener?.(wakeUp),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker claim loop", () => {
  const workers: DeliveryWorker[] = [];
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
  });

  it("claims once per delivered message at a low rate: a finished send does not claim again", async () => {
    const { store, claims } = countingStore();
    await store.createEndpoint({
      transport: "function",
      target: "ok",
      eventTypes: ["order.*"],
      secrets: [{ secret: SECRET }],
    });
    const transport = createFunctionTransport({ functions: { ok: () => "done" } });
    const worker = createDeliveryWorker({
      store,
      transports: { function: transport },
      pollIntervalMs: 60_000,
    });
    workers.push(worker);
    let delivered = 0;
    worker.on("delivery:succeeded", () => delivered++);
    worker.start();
    await until(() => claims.length === 1, 1_000, "the first (empty) claim");

    const dispatcher = createDispatcher({ store });
    for (let i = 1; i <= 5; i++) {
      await dispatcher.dispatch({ type: "order.created.v1", payload: { i } });
      await until(() => delivered === i, 1_000, `delivery ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The first empty claim, then one claim per message (each woken by its dispatch).
    expect(claims).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it("claims a due delivery into the slots slow sends leave free within tens of milliseconds, not at the next poll", async () => {
    const { store, claims } = countingStore();
    let releaseSlow: () => void = () => {};
    const slowDone = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    await store.createEndpoint({
      transport: "function",
      target: "slow",
      eventTypes: ["slow.*"],
      secrets: [{ secret: SECRET }],
    });
    await store.createEndpoint({
      transport: "function",
      target: "fast",
      eventTypes: ["fast.*"],
      secrets: [{ secret: SECRET }],
    });
    const transport = createFunctionTransport({
      functions: { slow: () => slowDone, fast: () => "done" },
    });
    // Four slots: the claim threshold is two free slots; three slow sends leave one.
    const worker = createDeliveryWorker({
      store,
      transports: { function: transport },
      concurrency: 4,
      pollIntervalMs: 60_000,
    });
    workers.push(worker);
    const fast: number[] = [];
    worker.on("delivery:succeeded", () => fast.push(performance.now()));
    worker.start();
    await until(() => claims.length === 1, 1_000, "the first (empty) claim");

    const dispatcher = createDispatcher({ store });
    for (let i = 0; i < 3; i++) await dispatcher.dispatch({ type: "slow.v1", payload: { i } });
    await until(() => claims.reduce((a, b) => a + b, 0) === 3, 1_000, "the three slow claims");

    try {
      const dispatchedAt = performance.now();
      await dispatcher.dispatch({ type: "fast.v1", payload: {} });
      await until(() => fast.length === 1, 2_000, "the fast delivery beside three slow sends");
      expect(fast[0]! - dispatchedAt).toBeLessThan(1_000);
    } finally {
      releaseSlow();
    }
  });

  describe("backup wake-ups", () => {
    async function started(): Promise<
      ReturnType<typeof wakeableStore> & { delivered: () => number }
    > {
      const wakeable = wakeableStore();
      await wakeable.store.createEndpoint({
        transport: "function",
        target: "ok",
        eventTypes: ["order.*"],
        secrets: [{ secret: SECRET }],
      });
      const worker = createDeliveryWorker({
        store: wakeable.store,
        transports: { function: createFunctionTransport({ functions: { ok: () => "done" } }) },
        pollIntervalMs: 60_000,
      });
      workers.push(worker);
      let delivered = 0;
      worker.on("delivery:succeeded", () => delivered++);
      worker.start();
      await until(() => wakeable.claims.length === 1, 1_000, "the first (empty) claim");
      return { ...wakeable, delivered: () => delivered };
    }

    it("claims BACKUP_CLAIM_MS after a backup when the worker started no claim, once for a burst", async () => {
      const { store, claims, wakeUp, delivered } = await started();
      await createDispatcher({ store }).dispatch({ type: "order.created.v1", payload: {} });
      const woken = performance.now();
      for (let i = 0; i < 5; i++) wakeUp("backup");
      await sleep(BACKUP_CLAIM_MS / 2);
      expect(claims).toEqual([0]); // not yet: it is another worker's turn
      await until(() => delivered() === 1, 2_000, "the backup's delivery");
      expect(performance.now() - woken).toBeGreaterThanOrEqual(BACKUP_CLAIM_MS - 5);
      await sleep(BACKUP_CLAIM_MS * 2);
      expect(claims).toEqual([0, 1]); // five backups within the wait: one claim
    });

    it("a claim that starts after a backup covers it: no second claim", async () => {
      const { store, claims, wakeUp, delivered } = await started();
      const dispatcher = createDispatcher({ store });
      await dispatcher.dispatch({ type: "order.created.v1", payload: { n: 1 } });
      wakeUp("backup");
      await dispatcher.dispatch({ type: "order.created.v1", payload: { n: 2 } });
      wakeUp("claim");
      await until(() => delivered() === 2, 1_000, "both deliveries");
      await sleep(BACKUP_CLAIM_MS * 2);
      expect(claims).toEqual([0, 2]);
    });

    it("a backup pending at stop() claims nothing", async () => {
      const { claims, wakeUp } = await started();
      wakeUp("backup");
      const worker = workers.pop()!;
      await worker.stop();
      await sleep(BACKUP_CLAIM_MS * 2);
      expect(claims).toEqual([0]);
    });
  });
});
