// The DedupeStore contract: every backend (memory, Redis, SQLite, PostgreSQL) runs this suite;
// those that take a clock also run the expiry suite, and the SQL ones the prune suite.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DedupeStore, PrunableDedupeStore } from "../../packages/core/src/store/ports.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

/** Short real leases: long enough not to lapse between two calls, short enough to wait out. */
const SHORT_MS = 60;
const PAST_SHORT_MS = 160;
const LONG_MS = 60_000;

export function testDedupeStore(
  name: string,
  factory: () => DedupeStore | Promise<DedupeStore>,
): void {
  describe(`DedupeStore contract: ${name}`, () => {
    let store: DedupeStore;
    let key: string;

    beforeEach(async () => {
      store = await factory();
      // Unique per test, so suites sharing one backend never see each other's keys.
      key = `contract:${randomUUID()}`;
    });

    afterEach(async () => {
      await store.close?.();
    });

    async function claimToken(k = key, leaseMs = LONG_MS): Promise<string> {
      const claim = await store.claim(k, leaseMs);
      if (!claim.claimed) throw new Error(`expected to claim ${k}, got ${claim.state}`);
      return claim.token;
    }

    it("the first claim wins and gets a token", async () => {
      const claim = await store.claim(key, LONG_MS);
      expect(claim).toEqual({ claimed: true, token: expect.any(String) });
    });

    it("a duplicate while processing is refused as processing", async () => {
      await claimToken();
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "processing" });
    });

    it("a duplicate after complete is refused as done", async () => {
      const token = await claimToken();
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "done" });
    });

    it("keys are independent", async () => {
      await claimToken();
      expect((await store.claim(`${key}:other`, LONG_MS)).claimed).toBe(true);
    });

    it("release lets the next claim win, with a new token", async () => {
      const first = await claimToken();
      await store.release(key, first);
      const second = await claimToken();
      expect(second).not.toBe(first);
    });

    it("a wrong token can neither complete nor release", async () => {
      const token = await claimToken();
      expect(await store.complete(key, "not-the-token", LONG_MS)).toBe(false);
      await store.release(key, "not-the-token");
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "processing" });
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
    });

    it("release and a second complete after complete leave the key done", async () => {
      const token = await claimToken();
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      await store.release(key, token);
      expect(await store.complete(key, token, LONG_MS)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "done" });
    });

    it("an expired lease can be claimed again, and its old token no longer completes", async () => {
      const stale = await claimToken(key, SHORT_MS);
      await sleep(PAST_SHORT_MS);
      expect(await store.complete(key, stale, LONG_MS)).toBe(false);
      const fresh = await claimToken();
      expect(fresh).not.toBe(stale);
    });

    it("a stale token cannot release or complete a newer claim", async () => {
      const stale = await claimToken(key, SHORT_MS);
      await sleep(PAST_SHORT_MS);
      const fresh = await claimToken();
      await store.release(key, stale);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "processing" });
      expect(await store.complete(key, stale, LONG_MS)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "processing" });
      expect(await store.complete(key, fresh, LONG_MS)).toBe(true);
    });

    it("a released token cannot complete the claim that followed", async () => {
      const first = await claimToken();
      await store.release(key, first);
      const second = await claimToken();
      expect(await store.complete(key, first, LONG_MS)).toBe(false);
      expect(await store.complete(key, second, LONG_MS)).toBe(true);
    });

    it("complete replaces the lease with the ttl", async () => {
      const token = await claimToken(key, SHORT_MS);
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      await sleep(PAST_SHORT_MS);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "done" });
    });

    it("a done key is forgotten after its ttl", async () => {
      const token = await claimToken();
      expect(await store.complete(key, token, SHORT_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ claimed: false, state: "done" });
      await sleep(PAST_SHORT_MS);
      expect((await store.claim(key, LONG_MS)).claimed).toBe(true);
    });

    it("50 concurrent claims have exactly one winner", async () => {
      const claims = await Promise.all(Array.from({ length: 50 }, () => store.claim(key, LONG_MS)));
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(claims.filter((claim) => !claim.claimed && claim.state === "processing")).toHaveLength(
        49,
      );
    });
  });
}

/** Leases and ttls end exactly at their time on an injected clock, without real waits. */
export function testDedupeStoreClock(
  name: string,
  factory: (clock: ManualClock) => DedupeStore,
): void {
  describe(`DedupeStore on an injected clock: ${name}`, () => {
    it("expires leases and ttls on the clock's time", async () => {
      const clock = new ManualClock(Date.UTC(2024, 4, 1, 12));
      const store = factory(clock);
      const key = `clock:${randomUUID()}`;
      const first = await store.claim(key, 30_000);
      if (!first.claimed) throw new Error("expected a claim");

      clock.advance(29_999);
      expect(await store.claim(key, 30_000)).toEqual({ claimed: false, state: "processing" });
      clock.advance(1);
      expect(await store.complete(key, first.token, 60_000)).toBe(false);
      const second = await store.claim(key, 30_000);
      expect(second.claimed).toBe(true);
      if (!second.claimed) throw new Error("expected the expired lease to be claimable");

      expect(await store.complete(key, second.token, 86_400_000)).toBe(true);
      clock.advance(86_399_999);
      expect(await store.claim(key, 30_000)).toEqual({ claimed: false, state: "done" });
      clock.advance(1);
      expect((await store.claim(key, 30_000)).claimed).toBe(true);
      await store.close?.();
    });
  });
}

/** What the prune suite needs of a SQL backend besides the store: a look at its table. */
export interface PruneHarness {
  create(options: { clock: ManualClock; pruneBatchSize: number }): PrunableDedupeStore;
  /** Empties the table. */
  clear(): Promise<void>;
  /** Every key in the table, sorted. */
  keys(): Promise<string[]>;
}

export function testDedupeStorePrune(name: string, harness: PruneHarness): void {
  describe(`PrunableDedupeStore prune: ${name}`, () => {
    it("deletes exactly the expired rows, in batches, and returns how many", async () => {
      await harness.clear();
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const store = harness.create({ clock, pruneBatchSize: 2 });
      for (let i = 0; i < 5; i++) await store.claim(`prune:lease:${i}`, 1_000);
      const done = await store.claim("prune:done", 1_000);
      if (!done.claimed) throw new Error("expected a claim");
      await store.complete("prune:done", done.token, 10_000);
      await store.claim("prune:live", 60_000);

      expect(await store.prune()).toBe(0);
      clock.advance(1_000);
      expect(await store.prune()).toBe(5);
      expect(await harness.keys()).toEqual(["prune:done", "prune:live"]);
      clock.advance(9_000);
      expect(await store.prune()).toBe(1);
      expect(await harness.keys()).toEqual(["prune:live"]);
    });
  });
}
