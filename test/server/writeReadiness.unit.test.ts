// Readiness for writes (withWriteReadiness) over a wrapped memory store whose writes and probe
// fail on demand, with a manual clock: when it probes, what makes it not ready and ready again,
// and that probes never pile up. The backends' own probes: sqliteDeliveryStore.unit.test.ts,
// postgresWriteReadiness.int.test.ts; the whole service on a full disk: readyDiskFull.e2e.
import { describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import {
  WRITE_READINESS_DEFAULTS,
  type WriteReadinessOptions,
  withWriteReadiness,
} from "../../packages/server/src/server/writeReadiness.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { input } from "../contracts/deliveryStore/batches.js";

const { freshMs, retryMs, maxRetryMs } = WRITE_READINESS_DEFAULTS;
const full = () => new HeraldError("store.unavailable", "SQLite: database or disk is full");

/** A memory store whose message writes and probe fail (or hang) while told to. */
function faultyStore() {
  const inner = createMemoryDeliveryStore();
  const faults = {
    write: null as Error | null,
    probe: null as Error | null,
    /** While set, a probe waits for it. */
    probeGate: null as Promise<void> | null,
  };
  let probes = 0;
  const store: DeliveryStore = {
    ...inner,
    async createMessages(inputs) {
      if (faults.write !== null) throw faults.write;
      return inner.createMessages(inputs);
    },
    async createMessage(one) {
      if (faults.write !== null) throw faults.write;
      return inner.createMessage(one);
    },
    async probeWrite() {
      probes += 1;
      await faults.probeGate;
      if (faults.probe !== null) throw faults.probe;
    },
  };
  return { store, faults, probes: () => probes };
}

function setup(options: WriteReadinessOptions = {}) {
  const clock = new ManualClock(0);
  const faulty = faultyStore();
  const changes: Array<string | null> = [];
  const readiness = withWriteReadiness(faulty.store, {
    clock,
    onChange: (failure) => changes.push(failure === null ? null : failure.message),
    ...options,
  });
  const ready = readiness.store.ready!;
  const isReady = () =>
    ready().then(
      () => true,
      () => false,
    );
  return { clock, ...faulty, readiness, store: readiness.store, ready, isReady, changes };
}

describe("withWriteReadiness", () => {
  it("probes when nothing vouched lately, then answers from that for freshMs", async () => {
    const t = setup();
    await expect(t.ready()).resolves.toBeUndefined();
    expect(t.probes()).toBe(1);
    t.clock.advance(freshMs - 1);
    for (let i = 0; i < 10; i++) await t.ready();
    expect(t.probes()).toBe(1);
    t.clock.advance(1);
    await t.ready();
    expect(t.probes()).toBe(2);
  });

  it("takes a write that stored something as evidence instead of probing; duplicates are none", async () => {
    const t = setup();
    await t.store.createMessages([input([], { idempotencyKey: "a" })]);
    await t.ready();
    expect(t.probes()).toBe(0);
    t.clock.advance(freshMs);
    // Only a duplicate: nothing committed, nothing proven.
    await t.store.createMessage(input([], { idempotencyKey: "a" }));
    await t.ready();
    expect(t.probes()).toBe(1);
  });

  it("is not ready from the first store.unavailable write, and until a probe passes", async () => {
    const t = setup();
    await t.ready();
    t.faults.write = full();
    t.faults.probe = new HeraldError("store.unavailable", "no room");
    await expect(t.store.createMessages([input([])])).rejects.toMatchObject({
      code: "store.unavailable",
    });
    // At once, with the write's own error, and no probe sooner than retryMs after it.
    await expect(t.ready()).rejects.toThrow("SQLite: database or disk is full");
    expect(t.changes).toEqual(["SQLite: database or disk is full"]);
    t.clock.advance(retryMs - 1);
    await expect(t.ready()).rejects.toMatchObject({ code: "store.unavailable" });
    expect(t.probes()).toBe(1);
    // The probe fails too: its error, and the next probe retryMs later.
    t.clock.advance(1);
    await expect(t.ready()).rejects.toThrow("no room");
    expect(t.probes()).toBe(2);
    await expect(t.ready()).rejects.toThrow("no room");
    expect(t.probes()).toBe(2);

    // A write that happens to get through does not end it: only a probe does.
    t.faults.write = null;
    await t.store.createMessages([input([])]);
    t.clock.advance(retryMs - 1);
    expect(await t.isReady()).toBe(false);
    t.faults.probe = null;
    t.clock.advance(1);
    await expect(t.ready()).resolves.toBeUndefined();
    expect(t.probes()).toBe(3);
    expect(t.changes).toEqual(["SQLite: database or disk is full", null]);
  });

  it("counts only store.unavailable: a refused input says nothing about the store", async () => {
    const t = setup();
    await t.ready();
    await expect(t.store.createMessages([input(["ep_missing"])])).rejects.toMatchObject({
      code: "endpoint.not_found",
    });
    expect(await t.isReady()).toBe(true);
    expect(t.changes).toEqual([]);
  });

  it("runs one probe at a time: concurrent calls share it, and a stuck one holds back the rest", async () => {
    const t = setup();
    let open!: () => void;
    t.faults.probeGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const waiting = Array.from({ length: 20 }, () => t.isReady());
    expect(t.probes()).toBe(1);
    // Writes fail meanwhile, long after the probe began: answered at once, no second probe.
    t.faults.write = full();
    await expect(t.store.createMessage(input([]))).rejects.toThrow();
    t.clock.advance(maxRetryMs * 10);
    for (let i = 0; i < 20; i++) expect(await t.isReady()).toBe(false);
    expect(t.probes()).toBe(1);
    // The probe passes at last, but a write failed while it ran: not believed.
    open();
    expect(await Promise.all(waiting)).toEqual(Array(20).fill(false));
    expect(t.probes()).toBe(1);
    // The next call (long past retryMs) probes again, and this one is believed.
    t.faults.write = null;
    expect(await t.isReady()).toBe(true);
    expect(t.probes()).toBe(2);
  });

  it("turns any probe error into store.unavailable", async () => {
    const t = setup();
    t.faults.probe = new Error("cannot execute INSERT in a read-only transaction");
    const error = await t.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toMatchObject({
      code: "store.unavailable",
      message: "The write probe failed: cannot execute INSERT in a read-only transaction",
    });
  });

  it("waits longer before each probe when writes fail again soon after a probe said ready", async () => {
    // A probe that passes while real writes fail (a cause it cannot see).
    const t = setup();
    t.faults.write = full();
    const relapse = async () => {
      await expect(t.store.createMessages([input([])])).rejects.toThrow();
      expect(await t.isReady()).toBe(false);
    };
    const waitBeforeProbe = async () => {
      const before = t.probes();
      let waited = 0;
      while (t.probes() === before) {
        t.clock.advance(retryMs);
        waited += retryMs;
        if (await t.isReady()) break;
      }
      return waited;
    };
    await t.ready();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      await relapse();
      waits.push(await waitBeforeProbe());
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30].map((s) => s * retryMs));
    // Once it stays ready for a while, a new failure starts again from retryMs.
    t.faults.write = null;
    t.clock.advance(freshMs);
    t.faults.write = full();
    await relapse();
    expect(await waitBeforeProbe()).toBe(retryMs);
  });
});
