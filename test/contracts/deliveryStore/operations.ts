// DeliveryStore contract, operations: lists with cursors, id prefixes, replay, recovery and
// the metrics queries.
import { describe, expect, it } from "vitest";
import type { DeliveryRecord, DeliveryStatus } from "../../../packages/core/src/store/ports.js";
import {
  allDeliveryIds,
  type ContractContext,
  claimAll,
  dispatch,
  expectCode,
  expectStored,
  failedAttempt,
  iso,
  LEASE_MS,
  makeEndpoint,
  START,
  UNLEASED,
} from "./fixtures.js";

const failed = failedAttempt({ durationMs: 1, statusCode: 503, error: "HTTP 503" });

export function operationsContract(t: ContractContext): void {
  /** One delivery per message to `endpointId`, `count` messages, 1 ms apart. */
  async function deliveries(endpointId: string, count: number): Promise<DeliveryRecord[]> {
    const out: DeliveryRecord[] = [];
    for (let i = 0; i < count; i++) {
      out.push(...(await dispatch(t.store, [endpointId], { payload: i })).deliveries);
      t.clock.advance(1);
    }
    return out;
  }

  /** Drives the delivery to `status` through a claim, as a worker would. */
  async function settle(id: string, status: DeliveryStatus): Promise<void> {
    const claimed = await claimAll(t.store, "setup", 1000);
    for (const c of claimed) {
      if (c.delivery.id !== id) {
        await t.store.releaseLease({ deliveryId: c.delivery.id, owner: "setup" });
        continue;
      }
      const ref = { deliveryId: id, owner: "setup", attempt: failed };
      if (status === "delivered") await t.store.completeDelivery(ref);
      else if (status === "dead_lettered") await t.store.deadLetter(ref);
      else if (status === "retrying")
        await t.store.scheduleRetry({ ...ref, nextAttemptAt: START + 3_600_000 });
    }
  }

  describe("operations", () => {
    it("gets a delivery with its attempts, or undefined", async () => {
      const endpoint = await makeEndpoint(t.store);
      const [delivery] = await deliveries(endpoint.id, 1);
      await settle(delivery!.id, "retrying");
      const found = await t.store.getDelivery(delivery!.id);
      expect(found?.delivery).toMatchObject({ id: delivery!.id, status: "retrying", attempts: 1 });
      expect(found?.attempts).toMatchObject([{ number: 1, statusCode: 503, error: "HTTP 503" }]);
      expect(await t.store.getDelivery("dlv_01JGZZZZZZZZZZZZZZZZZZZZZZ")).toBeUndefined();
    });

    it("pages through deliveries newest first, completely, while new ones arrive", async () => {
      const endpoint = await makeEndpoint(t.store);
      const existing = (await deliveries(endpoint.id, 7)).map((d) => d.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await t.store.listDeliveries({ limit: 3, cursor });
        expect(page.data.length).toBeLessThanOrEqual(3);
        seen.push(...page.data.map((d) => d.id));
        cursor = page.nextCursor;
        await deliveries(endpoint.id, 1); // newer rows must not shift later pages
      } while (cursor !== null);
      expect(seen).toEqual([...existing].reverse());
      const oldest = await t.store.listDeliveries({ order: "oldest", limit: 2 });
      expect(oldest.data.map((d) => d.id)).toEqual(existing.slice(0, 2));
      const next = await t.store.listDeliveries({
        order: "oldest",
        limit: 2,
        cursor: oldest.nextCursor,
      });
      expect(next.data.map((d) => d.id)).toEqual(existing.slice(2, 4));
    });

    it("filters by status, endpoint, message and creation time", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const [a1, a2, a3] = await deliveries(a.id, 3);
      const [b1] = await deliveries(b.id, 1);
      await settle(a1!.id, "dead_lettered");
      await settle(a2!.id, "delivered");
      const ids = async (options: Parameters<typeof t.store.listDeliveries>[0]) =>
        (await t.store.listDeliveries({ order: "oldest", ...options })).data.map((d) => d.id);
      expect(await ids({ status: "dead_lettered" })).toEqual([a1!.id]);
      expect(await ids({ status: ["pending", "delivered"] })).toEqual([a2!.id, a3!.id, b1!.id]);
      expect(await ids({ endpointId: b.id })).toEqual([b1!.id]);
      expect(await ids({ endpointId: a.id, status: "pending" })).toEqual([a3!.id]);
      expect(await ids({ messageId: a2!.messageId })).toEqual([a2!.id]);
      expect(await ids({ createdSince: a3!.createdAt })).toEqual([a3!.id, b1!.id]);
      expect(await ids({ endpointId: "ep_nobody" })).toEqual([]);
    });

    it("refuses foreign cursors and bad parameters", async () => {
      const endpoint = await makeEndpoint(t.store);
      await deliveries(endpoint.id, 3);
      const newest = await t.store.listDeliveries({ limit: 1 });
      await expectCode(
        t.store.listDeliveries({ order: "oldest", cursor: newest.nextCursor }),
        "cursor.invalid",
      );
      await expectCode(t.store.listEndpoints({ cursor: newest.nextCursor }), "cursor.invalid");
      await expectCode(t.store.listDeliveries({ cursor: "%%%" }), "cursor.invalid");
      await expectCode(t.store.listDeliveries({ limit: 1001 }), "query.invalid");
      await expectCode(t.store.listDeliveries({ status: "lost" as never }), "query.invalid");
      await expectCode(t.store.listDeliveries({ createdSince: "yesterday" }), "query.invalid");
    });

    it("resolves a full id or unique prefix; refuses ambiguous and unknown ones", async () => {
      const endpoint = await makeEndpoint(t.store);
      const ids = (await deliveries(endpoint.id, 3)).map((d) => d.id);
      const [id] = ids;
      // The shortest prefix of `id` that no other id shares.
      let unique = id!.slice(0, 5);
      while (ids.some((other) => other !== id && other.startsWith(unique))) {
        unique = id!.slice(0, unique.length + 1);
      }
      expect(await t.store.resolveDeliveryId(id!)).toBe(id);
      expect(await t.store.resolveDeliveryId(unique)).toBe(id);
      expect(await t.store.resolveDeliveryId(unique.slice(4).toLowerCase())).toBe(id);
      const shared = "dlv_0";
      await expect(t.store.resolveDeliveryId(shared)).rejects.toMatchObject({
        code: "delivery.ambiguous_prefix",
        details: { matches: ids },
      });
      expect(await t.store.findDeliveriesByPrefix(shared)).toEqual(ids);
      expect(await t.store.findDeliveriesByPrefix(shared, 2)).toEqual(ids.slice(0, 2));
      expect(await t.store.findDeliveriesByPrefix("dlv_7ZZ")).toEqual([]);
      await expectCode(t.store.resolveDeliveryId("dlv_7ZZZ"), "delivery.not_found");
      await expectCode(t.store.resolveDeliveryId("dlv_%"), "delivery.not_found");
      await expectCode(t.store.resolveDeliveryId(""), "query.invalid");
    });

    it("replays: pending, due now, attempts reset, the attempt log kept", async () => {
      const endpoint = await makeEndpoint(t.store);
      const [delivery] = await deliveries(endpoint.id, 1);
      const id = delivery!.id;
      await settle(id, "dead_lettered");
      t.clock.advance(10_000);
      const replayed = await t.store.replayDelivery(id);
      expect(replayed).toMatchObject({
        status: "pending",
        attempts: 0,
        nextAttemptAt: iso(START + 10_001),
        lastError: null,
        lastStatusCode: null,
        leaseOwner: null,
        messageId: delivery!.messageId,
      });
      const deadAttempt = { number: 1, statusCode: 503, error: "HTTP 503" };
      await expectStored(t.store, {
        delivery: {
          id,
          status: "pending",
          attempts: 0,
          nextAttemptAt: iso(START + 10_001),
          ...UNLEASED,
          lastAttemptAt: iso(START),
          lastError: null,
          lastStatusCode: null,
          updatedAt: iso(START + 10_001),
        },
        attempts: [deadAttempt],
      });
      const [again] = await claimAll(t.store, "w");
      expect(again?.delivery.id).toBe(id);
      const { attempt } = await t.store.recordAttempt({
        deliveryId: id,
        owner: "w",
        attempt: failed,
      });
      expect(attempt.number).toBe(2);
      await expectCode(t.store.replayDelivery(id), "delivery.in_progress");
      await expectStored(t.store, {
        delivery: { id, status: "delivering", attempts: 1, leaseOwner: "w", lastError: "HTTP 503" },
        attempts: [deadAttempt, { number: 2, statusCode: 503, error: "HTTP 503" }],
      });
      t.clock.advance(LEASE_MS);
      expect((await t.store.replayDelivery(id)).status).toBe("pending");
      await expectStored(t.store, {
        delivery: {
          id,
          status: "pending",
          attempts: 0,
          nextAttemptAt: iso(START + 10_001 + LEASE_MS),
          ...UNLEASED,
          lastAttemptAt: iso(START),
          lastError: null,
          lastStatusCode: null,
          updatedAt: iso(START + 10_001 + LEASE_MS),
        },
        attempts: [deadAttempt, { number: 2 }],
      });
      await expectCode(
        t.store.completeDelivery({ deliveryId: id, owner: "w" }),
        "delivery.lease_lost",
      );
      await expectCode(
        t.store.replayDelivery("dlv_01JGZZZZZZZZZZZZZZZZZZZZZZ"),
        "delivery.not_found",
      );
    });

    it("recovers an endpoint: retrying and dead-lettered deliveries since a time", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const [old, dead, retrying, delivered, pending] = await deliveries(a.id, 5);
      const [otherDead] = await deliveries(b.id, 1);
      await settle(old!.id, "dead_lettered");
      await settle(dead!.id, "dead_lettered");
      await settle(retrying!.id, "retrying");
      await settle(delivered!.id, "delivered");
      await settle(otherDead!.id, "dead_lettered");
      const result = await t.store.recoverEndpoint({ endpointId: a.id, since: dead!.createdAt });
      expect(result).toEqual({ replayed: 2 });
      const status = async (id: string) => (await t.store.getDelivery(id))?.delivery.status;
      expect(await status(old!.id)).toBe("dead_lettered");
      expect(await status(dead!.id)).toBe("pending");
      expect(await status(retrying!.id)).toBe("pending");
      expect(await status(delivered!.id)).toBe("delivered");
      expect(await status(pending!.id)).toBe("pending");
      expect(await status(otherDead!.id)).toBe("dead_lettered");
      expect((await t.store.getDelivery(dead!.id))?.delivery).toMatchObject({
        attempts: 0,
        nextAttemptAt: iso(t.clock.now()),
      });
      for (const recovered of [dead!, retrying!]) {
        await expectStored(t.store, {
          delivery: {
            id: recovered.id,
            status: "pending",
            attempts: 0,
            nextAttemptAt: iso(t.clock.now()),
            ...UNLEASED,
            lastAttemptAt: iso(START),
            lastError: null,
            lastStatusCode: null,
            updatedAt: iso(t.clock.now()),
          },
          attempts: [{ number: 1, statusCode: 503, error: "HTTP 503" }],
        });
      }
      for (const untouched of [old!, otherDead!]) {
        await expectStored(t.store, {
          delivery: {
            id: untouched.id,
            status: "dead_lettered",
            attempts: 1,
            nextAttemptAt: null,
            lastError: "HTTP 503",
            lastStatusCode: 503,
          },
          attempts: [{ number: 1 }],
        });
      }
      await expectCode(
        t.store.recoverEndpoint({ endpointId: "ep_nobody", since: START }),
        "endpoint.not_found",
      );
      await expectCode(
        t.store.recoverEndpoint({ endpointId: a.id, since: "soon" }),
        "query.invalid",
      );
    });

    it("reports queue depth by status and the age of the oldest due delivery", async () => {
      expect(await t.store.deliveryStats()).toEqual({
        depth: { pending: 0, delivering: 0, retrying: 0, dead_lettered: 0, cancelled: 0 },
        oldestDueAt: null,
        oldestDueAgeMs: null,
      });
      const a = await makeEndpoint(t.store);
      const paused = await makeEndpoint(t.store);
      const [d1, d2, d3, d4] = await deliveries(a.id, 4); // created at START … START+3
      await deliveries(paused.id, 1);
      await t.store.setEndpointEnabled(paused.id, false, "paused");
      await settle(d1!.id, "delivered");
      await settle(d2!.id, "dead_lettered");
      await settle(d3!.id, "retrying");
      t.clock.set(START + 60_000);
      const stats = await t.store.deliveryStats();
      expect(stats.depth).toEqual({
        pending: 2,
        delivering: 0,
        retrying: 1,
        dead_lettered: 1,
        cancelled: 0,
      });
      // d4 was released by settle() at START+5, due then; the paused endpoint's older one is ignored.
      expect(stats.oldestDueAt).toBe(iso(START + 5));
      expect(stats.oldestDueAgeMs).toBe(60_000 - 5);
      expect(d4).toBeDefined();
      expect(await allDeliveryIds(t.store)).toHaveLength(5);
    });

    it("probes writes: again and again, from several processes, changing no record", async () => {
      const endpoint = await makeEndpoint(t.store);
      const [delivery] = await deliveries(endpoint.id, 1);
      const other = await t.connect();
      for (let i = 0; i < 3; i++) {
        await Promise.all([t.store.probeWrite(), other.probeWrite()]);
      }
      expect(await t.store.getEndpoint(endpoint.id)).toEqual(endpoint);
      expect((await t.store.getDelivery(delivery!.id))?.delivery).toEqual(delivery);
      expect(await t.store.deliveryStats()).toMatchObject({ depth: { pending: 1 } });
    });
  });
}
