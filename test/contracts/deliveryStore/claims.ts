// DeliveryStore contract, claims: leases that exclude other workers while they hold, expire
// into reclaims, skip disabled endpoints and keep ordered endpoints first-in first-out.
import { describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../../packages/core/src/store/ports.js";
import {
  type ContractContext,
  claimAll,
  claimOne,
  dispatch,
  expectCode,
  expectStored,
  iso,
  LEASE_MS,
  makeEndpoint,
  START,
  UNLEASED,
} from "./fixtures.js";

export function claimContract(t: ContractContext): void {
  describe("claims", () => {
    it("leases due deliveries with their message and endpoint", async () => {
      const endpoint = await makeEndpoint(t.store);
      const { message, deliveries } = await dispatch(t.store, [endpoint.id], {
        payload: { big: "x".repeat(1000) },
      });
      const claimed = await claimAll(t.store, "worker-1");
      expect(claimed).toEqual([
        {
          delivery: {
            ...deliveries[0],
            status: "delivering",
            leaseOwner: "worker-1",
            leaseExpiresAt: iso(START + LEASE_MS),
            nextAttemptAt: iso(START + LEASE_MS),
          },
          message,
          endpoint,
        },
      ]);
      expect((await t.store.getDelivery(deliveries[0]!.id))?.delivery).toEqual(
        claimed[0]!.delivery,
      );
    });

    it("never hands a leased delivery to another worker until the lease expires", async () => {
      const endpoint = await makeEndpoint(t.store);
      const { deliveries } = await dispatch(t.store, [endpoint.id]);
      const other = await t.connect();
      await claimOne(t.store, "worker-1");
      expect(await claimAll(other, "worker-2")).toEqual([]);
      expect(await claimAll(t.store, "worker-1")).toEqual([]); // not even to its holder
      t.clock.advance(LEASE_MS - 1);
      expect(await claimAll(other, "worker-2")).toEqual([]);
      t.clock.advance(1);
      const reclaimed = await claimAll(other, "worker-2");
      expect(reclaimed.map((c) => c.delivery.id)).toEqual([deliveries[0]!.id]);
      expect(reclaimed[0]!.delivery).toMatchObject({
        status: "delivering",
        leaseOwner: "worker-2",
        leaseExpiresAt: iso(START + 2 * LEASE_MS),
      });
      await expectStored(t.store, {
        delivery: {
          id: deliveries[0]!.id,
          status: "delivering",
          attempts: 0,
          nextAttemptAt: iso(START + 2 * LEASE_MS),
          leaseOwner: "worker-2",
          leaseExpiresAt: iso(START + 2 * LEASE_MS),
          updatedAt: iso(START + LEASE_MS),
        },
        attempts: [],
      });
    });

    it("claims only what is due, earliest first, at most `limit`", async () => {
      const endpoint = await makeEndpoint(t.store);
      const schedule = [30_000, 10_000, 0, 20_000, 90_000];
      const ids: string[] = [];
      for (const delay of schedule) {
        const { deliveries } = await t.store.createMessage({
          message: { type: "order.created.v1", payload: delay },
          deliveries: [{ endpointId: endpoint.id, maxAttempts: 1, nextAttemptAt: START + delay }],
        });
        ids.push(deliveries[0]!.id);
      }
      // An explicit `now` (here an RFC 3339 string) instead of the store's clock.
      const first = await t.store.claimDueDeliveries({
        owner: "w",
        limit: 5,
        leaseMs: LEASE_MS,
        now: "2025-01-01T00:00:10.000Z",
      });
      expect(first.map((c) => c.delivery.id)).toEqual([ids[2], ids[1]]);
      expect(first[0]!.delivery.leaseExpiresAt).toBe(iso(START + 10_000 + LEASE_MS));
      t.clock.advance(30_000);
      const limited = await t.store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: LEASE_MS });
      expect(limited.map((c) => c.delivery.id)).toEqual([ids[3]]);
      expect((await claimAll(t.store, "w")).map((c) => c.delivery.id)).toEqual([ids[0]]);
      expect(await claimAll(t.store, "w")).toEqual([]);
    });

    it("leaves deliveries of a disabled endpoint queued until it is enabled", async () => {
      const endpoint = await makeEndpoint(t.store);
      await dispatch(t.store, [endpoint.id]);
      await t.store.setEndpointEnabled(endpoint.id, false, "paused");
      expect(await claimAll(t.store, "w")).toEqual([]);
      await t.store.setEndpointEnabled(endpoint.id, true);
      expect(await claimAll(t.store, "w")).toHaveLength(1);
    });

    it("offers an ordered endpoint's deliveries one at a time, oldest first", async () => {
      const ordered = await makeEndpoint(t.store, { ordered: true });
      const free = await makeEndpoint(t.store);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { deliveries } = await dispatch(t.store, [ordered.id, free.id], { payload: i });
        ids.push(deliveries[0]!.id);
      }
      const firstRound = await claimAll(t.store, "w");
      expect(
        firstRound.filter((c) => c.endpoint.id === ordered.id).map((c) => c.delivery.id),
      ).toEqual([ids[0]]);
      expect(firstRound.filter((c) => c.endpoint.id === free.id)).toHaveLength(3);
      // A retry keeps the next one waiting, even while the retry itself is not due yet.
      const orderedClaims = async () =>
        (await claimAll(t.store, "w"))
          .filter((c) => c.endpoint.id === ordered.id)
          .map((c) => c.delivery.id);
      await t.store.scheduleRetry({
        deliveryId: ids[0]!,
        owner: "w",
        nextAttemptAt: START + 60_000,
      });
      await expectStored(t.store, {
        delivery: {
          id: ids[0]!,
          status: "retrying",
          attempts: 0,
          nextAttemptAt: iso(START + 60_000),
          ...UNLEASED,
          updatedAt: iso(START),
        },
        attempts: [],
      });
      expect(await orderedClaims()).toEqual([]);
      t.clock.advance(60_000);
      expect(await orderedClaims()).toEqual([ids[0]]);
      await t.store.completeDelivery({ deliveryId: ids[0]!, owner: "w" });
      await expectStored(t.store, {
        delivery: {
          id: ids[0]!,
          status: "delivered",
          nextAttemptAt: null,
          ...UNLEASED,
          updatedAt: iso(START + 60_000),
        },
        attempts: [],
      });
      expect(await orderedClaims()).toEqual([ids[1]]);
      await t.store.deadLetter({ deliveryId: ids[1]!, owner: "w", reason: "gave up" });
      await expectStored(t.store, {
        delivery: {
          id: ids[1]!,
          status: "dead_lettered",
          attempts: 0,
          nextAttemptAt: null,
          ...UNLEASED,
          lastError: "gave up",
          updatedAt: iso(START + 60_000),
        },
        attempts: [],
      });
      expect(await orderedClaims()).toEqual([ids[2]]);
    });

    it("concurrent claimers over several connections never share a delivery", async () => {
      const endpoints = [await makeEndpoint(t.store), await makeEndpoint(t.store)];
      const total = 60;
      for (let i = 0; i < total / 2; i++) {
        await dispatch(
          t.store,
          endpoints.map((e) => e.id),
          { payload: i },
        );
      }
      const handles: DeliveryStore[] = [t.store];
      for (let i = 0; i < 5; i++) handles.push(await t.connect());
      const claims = new Map<string, string[]>();
      await Promise.all(
        handles.map(async (handle, i) => {
          const owner = `worker-${i}`;
          for (;;) {
            const batch = await handle.claimDueDeliveries({ owner, limit: 4, leaseMs: LEASE_MS });
            if (batch.length === 0) return;
            for (const c of batch)
              claims.set(c.delivery.id, [...(claims.get(c.delivery.id) ?? []), owner]);
          }
        }),
      );
      expect(claims.size).toBe(total);
      expect([...claims.values()].filter((owners) => owners.length > 1)).toEqual([]);
    });

    it("refuses bad claim options with delivery.invalid", async () => {
      await expectCode(
        t.store.claimDueDeliveries({ owner: "", limit: 1, leaseMs: 1 }),
        "delivery.invalid",
      );
      await expectCode(
        t.store.claimDueDeliveries({ owner: "w", limit: 0, leaseMs: 1 }),
        "delivery.invalid",
      );
      await expectCode(
        t.store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: 0 }),
        "delivery.invalid",
      );
    });
  });
}
