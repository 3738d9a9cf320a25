// DeliveryStore contract, lease-guarded work: the attempt log, endpoint health, the status
// transitions, and a worker whose lease is gone being refused without changing anything.
import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  claimAll,
  claimOne,
  dispatch,
  expectCode,
  expectStored,
  FAILED_ONCE,
  failedAttempt,
  iso,
  LEASE_MS,
  LOGGED_FAILURE,
  makeEndpoint,
  START,
  type StoredState,
  UNLEASED,
} from "./fixtures.js";

/** A delivery completed at `at` with no attempt logged, as stored. */
function deliveredUntried(id: string, at: number): StoredState & { delivery: object } {
  return {
    delivery: {
      id,
      status: "delivered",
      attempts: 0,
      nextAttemptAt: null,
      ...UNLEASED,
      lastAttemptAt: null,
      updatedAt: iso(at),
    },
    attempts: [],
  };
}

export function leaseContract(t: ContractContext): void {
  async function claimed(owner = "w") {
    const endpoint = await makeEndpoint(t.store);
    await dispatch(t.store, [endpoint.id]);
    return { endpoint, deliveryId: await claimOne(t.store, owner) };
  }

  describe("lease-guarded work", () => {
    it("counts the failure run attempt by attempt when outcomes arrive together", async () => {
      const endpoint = await makeEndpoint(t.store);
      for (let i = 0; i < 7; i++) await dispatch(t.store, [endpoint.id]);
      const ids = (await claimAll(t.store, "w")).map((c) => c.delivery.id);
      expect(ids).toHaveLength(7);
      const ok = { startedAt: START, durationMs: 1, succeeded: true, statusCode: 204 };
      const record = (deliveryId: string, succeeded: boolean) =>
        t.store.recordAttempt({
          deliveryId,
          owner: "w",
          attempt: succeeded ? ok : failedAttempt(),
        });
      const failingOnce = { consecutiveFailures: 1, failingSince: iso(START) };
      const healthy = { consecutiveFailures: 0, failingSince: null };
      // Called in one turn: stores that group commits write these together, in this order.
      const first = await Promise.all(
        [true, false, true, true].map((succeeded, i) => record(ids[i]!, succeeded)),
      );
      expect(first.map((o) => o.endpointHealth)).toEqual([healthy, failingOnce, healthy, healthy]);
      expect((await t.store.getEndpoint(endpoint.id))?.consecutiveFailures).toBe(0);
      const second = await Promise.all(
        [false, true, false].map((succeeded, i) => record(ids[4 + i]!, succeeded)),
      );
      expect(second.map((o) => o.endpointHealth)).toEqual([failingOnce, healthy, failingOnce]);
      expect(await t.store.getEndpoint(endpoint.id)).toMatchObject(failingOnce);
    });

    it("logs attempts in order, counts them and tracks the endpoint's failure run", async () => {
      const { endpoint, deliveryId } = await claimed();
      const first = await t.store.recordAttempt({
        deliveryId,
        owner: "w",
        attempt: failedAttempt(),
      });
      expect(first.attempt).toEqual({
        id: expect.stringMatching(/^att_[0-9A-Z]{26}$/),
        deliveryId,
        number: 1,
        startedAt: iso(START),
        durationMs: 12,
        succeeded: false,
        statusCode: 500,
        responseHeaders: { "content-type": "text/plain" },
        responseBody: "boom",
        error: "HTTP 500",
      });
      expect(first.delivery).toMatchObject({
        status: "delivering",
        attempts: 1,
        lastAttemptAt: iso(START),
        lastError: "HTTP 500",
        lastStatusCode: 500,
      });
      expect(first.endpointHealth).toEqual({ consecutiveFailures: 1, failingSince: iso(START) });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "delivering",
          ...FAILED_ONCE,
          nextAttemptAt: iso(START + LEASE_MS),
          leaseOwner: "w",
          leaseExpiresAt: iso(START + LEASE_MS),
          updatedAt: iso(START),
        },
        attempts: [first.attempt],
        endpoint: { id: endpoint.id, consecutiveFailures: 1, failingSince: iso(START) },
      });
      t.clock.advance(1_000);
      const second = await t.store.recordAttempt({
        deliveryId,
        owner: "w",
        attempt: failedAttempt({ startedAt: START + 1_000, statusCode: null, error: "timeout" }),
      });
      expect(second.attempt.number).toBe(2);
      expect(second.endpointHealth).toEqual({ consecutiveFailures: 2, failingSince: iso(START) });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "delivering",
          attempts: 2,
          leaseOwner: "w",
          lastAttemptAt: iso(START + 1_000),
          lastError: "timeout",
          lastStatusCode: null,
          updatedAt: iso(START + 1_000),
        },
        attempts: [
          first.attempt,
          {
            id: second.attempt.id,
            deliveryId,
            number: 2,
            startedAt: iso(START + 1_000),
            durationMs: 12,
            succeeded: false,
            statusCode: null,
            responseHeaders: { "content-type": "text/plain" },
            responseBody: "boom",
            error: "timeout",
          },
        ],
        endpoint: { id: endpoint.id, consecutiveFailures: 2, failingSince: iso(START) },
      });
      const third = await t.store.recordAttempt({
        deliveryId,
        owner: "w",
        attempt: { startedAt: START + 1_000, durationMs: 1, succeeded: true, statusCode: 204 },
      });
      expect(third.endpointHealth).toEqual({ consecutiveFailures: 0, failingSince: null });
      expect(third.delivery).toMatchObject({ attempts: 3, lastError: null, lastStatusCode: 204 });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "delivering",
          attempts: 3,
          lastAttemptAt: iso(START + 1_000),
          lastError: null,
          lastStatusCode: 204,
          updatedAt: iso(START + 1_000),
        },
        attempts: [
          first.attempt,
          second.attempt,
          {
            id: third.attempt.id,
            number: 3,
            startedAt: iso(START + 1_000),
            durationMs: 1,
            succeeded: true,
            statusCode: 204,
            responseHeaders: null,
            responseBody: null,
            error: null,
          },
        ],
        endpoint: { id: endpoint.id, consecutiveFailures: 0, failingSince: null },
      });
      expect(await t.store.getEndpoint(endpoint.id)).toMatchObject({
        consecutiveFailures: 0,
        failingSince: null,
      });
      const stored = await t.store.getDelivery(deliveryId);
      expect(stored?.attempts.map((a) => a.number)).toEqual([1, 2, 3]);
      expect(stored?.attempts[0]).toEqual(first.attempt);
      expect(stored?.delivery).toEqual(third.delivery);
    });

    it("keeps at most 20 KB of a response body, cut on a character boundary", async () => {
      const { deliveryId } = await claimed();
      const body = `${"a".repeat(20_479)}é${"z".repeat(100)}`; // é is 2 bytes: it would straddle
      const { attempt } = await t.store.recordAttempt({
        deliveryId,
        owner: "w",
        attempt: failedAttempt({ responseBody: body, error: "nul\u0000byte" }),
      });
      expect(attempt.responseBody).toBe("a".repeat(20_479));
      expect(attempt.error).toBe("nul\uFFFDbyte");
      await expectStored(t.store, {
        delivery: { id: deliveryId, attempts: 1, lastError: "nul\uFFFDbyte", lastStatusCode: 500 },
        attempts: [{ responseBody: "a".repeat(20_479), error: "nul\uFFFDbyte" }],
      });
      expect((await t.store.getDelivery(deliveryId))?.attempts[0]?.responseBody).toBe(
        "a".repeat(20_479),
      );
    });

    it("completes: delivered, lease cleared, with the attempt in the same call", async () => {
      const { endpoint, deliveryId } = await claimed();
      const done = await t.store.completeDelivery({
        deliveryId,
        owner: "w",
        attempt: { startedAt: START, durationMs: 5, succeeded: true, statusCode: 200 },
      });
      expect(done).toMatchObject({
        status: "delivered",
        attempts: 1,
        nextAttemptAt: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        lastStatusCode: 200,
      });
      expect((await t.store.getDelivery(deliveryId))?.attempts).toHaveLength(1);
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "delivered",
          attempts: 1,
          nextAttemptAt: null,
          ...UNLEASED,
          lastAttemptAt: iso(START),
          lastError: null,
          lastStatusCode: 200,
          updatedAt: iso(START),
        },
        attempts: [
          { number: 1, startedAt: iso(START), durationMs: 5, succeeded: true, statusCode: 200 },
        ],
        endpoint: { id: endpoint.id, consecutiveFailures: 0, failingSince: null },
      });
    });

    it("schedules a retry that is claimable at its time and not before", async () => {
      const { endpoint, deliveryId } = await claimed();
      const retrying = await t.store.scheduleRetry({
        deliveryId,
        owner: "w",
        attempt: failedAttempt(),
        nextAttemptAt: new Date(START + 5_000),
      });
      expect(retrying).toMatchObject({
        status: "retrying",
        attempts: 1,
        nextAttemptAt: iso(START + 5_000),
        leaseOwner: null,
        lastError: "HTTP 500",
      });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "retrying",
          ...FAILED_ONCE,
          nextAttemptAt: iso(START + 5_000),
          ...UNLEASED,
          updatedAt: iso(START),
        },
        attempts: [LOGGED_FAILURE],
        endpoint: { id: endpoint.id, consecutiveFailures: 1, failingSince: iso(START) },
      });
      t.clock.advance(4_999);
      expect(await t.store.claimDueDeliveries({ owner: "w", limit: 5, leaseMs: LEASE_MS })).toEqual(
        [],
      );
      t.clock.advance(1);
      expect(await claimOne(t.store, "w2")).toBe(deliveryId);
    });

    it("dead-letters with a reason, or keeps the last error without one", async () => {
      const { endpoint, deliveryId } = await claimed();
      const dead = await t.store.deadLetter({ deliveryId, owner: "w", attempt: failedAttempt() });
      expect(dead).toMatchObject({
        status: "dead_lettered",
        nextAttemptAt: null,
        lastError: "HTTP 500",
      });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "dead_lettered",
          ...FAILED_ONCE,
          nextAttemptAt: null,
          ...UNLEASED,
          updatedAt: iso(START),
        },
        attempts: [LOGGED_FAILURE],
        endpoint: { id: endpoint.id, consecutiveFailures: 1, failingSince: iso(START) },
      });
      const other = await claimed("v");
      const reasoned = await t.store.deadLetter({
        deliveryId: other.deliveryId,
        owner: "v",
        reason: "endpoint disabled",
      });
      expect(reasoned).toMatchObject({ status: "dead_lettered", lastError: "endpoint disabled" });
      await expectStored(t.store, {
        delivery: {
          id: other.deliveryId,
          status: "dead_lettered",
          attempts: 0,
          nextAttemptAt: null,
          ...UNLEASED,
          lastAttemptAt: null,
          lastError: "endpoint disabled",
          lastStatusCode: null,
          updatedAt: iso(START),
        },
        attempts: [],
        endpoint: { id: other.endpoint.id, consecutiveFailures: 0, failingSince: null },
      });
      expect(await t.store.claimDueDeliveries({ owner: "w", limit: 5, leaseMs: 1 })).toEqual([]);
    });

    it("releases without counting an attempt: pending if never tried, else retrying", async () => {
      const { deliveryId } = await claimed();
      const back = await t.store.releaseLease({ deliveryId, owner: "w" });
      expect(back).toMatchObject({
        status: "pending",
        attempts: 0,
        nextAttemptAt: iso(START),
        leaseOwner: null,
      });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "pending",
          attempts: 0,
          nextAttemptAt: iso(START),
          ...UNLEASED,
          lastAttemptAt: null,
          lastError: null,
          lastStatusCode: null,
          updatedAt: iso(START),
        },
        attempts: [],
      });
      await claimOne(t.store, "w");
      await t.store.recordAttempt({ deliveryId, owner: "w", attempt: failedAttempt() });
      const later = await t.store.releaseLease({
        deliveryId,
        owner: "w",
        nextAttemptAt: START + 2_000,
      });
      expect(later).toMatchObject({
        status: "retrying",
        attempts: 1,
        nextAttemptAt: iso(START + 2_000),
      });
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "retrying",
          ...FAILED_ONCE,
          nextAttemptAt: iso(START + 2_000),
          ...UNLEASED,
          updatedAt: iso(START),
        },
        attempts: [LOGGED_FAILURE],
      });
    });

    it("extends a lease so nobody else can claim in the extra time", async () => {
      const { deliveryId } = await claimed();
      t.clock.advance(LEASE_MS - 1);
      const extended = await t.store.extendLease({ deliveryId, owner: "w", leaseMs: LEASE_MS });
      expect(extended.leaseExpiresAt).toBe(iso(START + 2 * LEASE_MS - 1));
      await expectStored(t.store, {
        delivery: {
          id: deliveryId,
          status: "delivering",
          attempts: 0,
          nextAttemptAt: iso(START + 2 * LEASE_MS - 1),
          leaseOwner: "w",
          leaseExpiresAt: iso(START + 2 * LEASE_MS - 1),
          updatedAt: iso(START + LEASE_MS - 1),
        },
        attempts: [],
      });
      t.clock.advance(1);
      expect(await t.store.claimDueDeliveries({ owner: "x", limit: 5, leaseMs: 1 })).toEqual([]);
      await t.store.completeDelivery({ deliveryId, owner: "w" });
      await expectStored(t.store, deliveredUntried(deliveryId, START + LEASE_MS));
    });

    it("refuses a worker whose lease is gone (delivery.lease_lost) and changes nothing", async () => {
      const { endpoint, deliveryId } = await claimed("w");
      // Thunks: each call starts only when awaited, so no rejection goes unhandled meanwhile.
      const ops = (owner: string) => [
        () => t.store.recordAttempt({ deliveryId, owner, attempt: failedAttempt() }),
        () => t.store.completeDelivery({ deliveryId, owner, attempt: failedAttempt() }),
        () => t.store.scheduleRetry({ deliveryId, owner, nextAttemptAt: START }),
        () => t.store.deadLetter({ deliveryId, owner }),
        () => t.store.releaseLease({ deliveryId, owner }),
        () => t.store.extendLease({ deliveryId, owner, leaseMs: 1_000 }),
      ];
      for (const op of ops("intruder")) await expectCode(op(), "delivery.lease_lost");

      t.clock.advance(LEASE_MS); // expired, not yet reclaimed: still refused
      const before = await t.store.getDelivery(deliveryId);
      for (const op of ops("w")) await expectCode(op(), "delivery.lease_lost");
      expect(await t.store.getDelivery(deliveryId)).toEqual(before);
      expect(before?.attempts).toEqual([]);
      expect((await t.store.getEndpoint(endpoint.id))?.consecutiveFailures).toBe(0);

      expect(await claimOne(t.store, "w2")).toBe(deliveryId);
      await expectCode(t.store.completeDelivery({ deliveryId, owner: "w" }), "delivery.lease_lost");
      await t.store.completeDelivery({ deliveryId, owner: "w2" });
      await expectStored(t.store, {
        ...deliveredUntried(deliveryId, START + LEASE_MS),
        endpoint: { id: endpoint.id, consecutiveFailures: 0, failingSince: null },
      });
      await expectCode(
        t.store.completeDelivery({ deliveryId, owner: "w2" }),
        "delivery.lease_lost",
      );
      await expectCode(
        t.store.completeDelivery({ deliveryId: "dlv_01JGZZZZZZZZZZZZZZZZZZZZZZ", owner: "w" }),
        "delivery.not_found",
      );
    });

    it("refuses a malformed attempt (delivery.invalid) and logs nothing", async () => {
      const { deliveryId } = await claimed();
      await expectCode(
        t.store.completeDelivery({
          deliveryId,
          owner: "w",
          attempt: failedAttempt({ durationMs: -1 }),
        }),
        "delivery.invalid",
      );
      await expectCode(
        t.store.recordAttempt({
          deliveryId,
          owner: "w",
          attempt: failedAttempt({ statusCode: 42 }),
        }),
        "delivery.invalid",
      );
      const stored = await t.store.getDelivery(deliveryId);
      expect(stored?.attempts).toEqual([]);
      expect(stored?.delivery).toMatchObject({ status: "delivering", attempts: 0 });
    });
  });
}
