// The DedupeStore contract: every backend (memory, Redis, SQLite, PostgreSQL) runs this suite.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DedupeStore } from "../../src/store/ports.js";

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
