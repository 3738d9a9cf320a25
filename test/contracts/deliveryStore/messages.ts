// DeliveryStore contract, messages: one transaction for a message and its deliveries, and
// idempotency keys that hold under concurrent identical calls.
import { describe, expect, it } from "vitest";
import {
  allDeliveryIds,
  type ContractContext,
  claimAll,
  dispatch,
  expectCode,
  iso,
  makeEndpoint,
  START,
} from "./fixtures.js";

export function messageContract(t: ContractContext): void {
  describe("messages", () => {
    it("stores a message and one pending delivery per endpoint, due at once", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const payload = { order: { id: "o-1", lines: [1, 2.5, null, true] }, note: "ünïcødé ✓ 😀" };
      const result = await t.store.createMessage({
        message: { type: "order.created.v1", payload, tenant: "acme", source: "shop" },
        deliveries: [
          { endpointId: a.id, maxAttempts: 8 },
          { endpointId: b.id, maxAttempts: 3 },
        ],
      });
      expect(result.created).toBe(true);
      expect(result.message).toEqual({
        id: expect.stringMatching(/^msg_[0-9A-Z]{26}$/),
        tenant: "acme",
        type: "order.created.v1",
        source: "shop",
        payload,
        idempotencyKey: null,
        inboundIdempotencyKey: null,
        createdAt: iso(START),
      });
      expect(result.deliveries).toEqual(
        [
          [a.id, 8],
          [b.id, 3],
        ].map(([endpointId, maxAttempts]) => ({
          id: expect.stringMatching(/^dlv_[0-9A-Z]{26}$/),
          messageId: result.message.id,
          endpointId,
          status: "pending",
          attempts: 0,
          maxAttempts,
          nextAttemptAt: iso(START),
          leaseOwner: null,
          leaseExpiresAt: null,
          lastAttemptAt: null,
          lastError: null,
          lastStatusCode: null,
          createdAt: iso(START),
          updatedAt: iso(START),
        })),
      );
      expect(await t.store.getMessage(result.message.id)).toEqual({
        message: result.message,
        deliveries: result.deliveries,
        filtered: [],
      });
    });

    it("defaults the tenant, allows no deliveries and a later first attempt", async () => {
      const endpoint = await makeEndpoint(t.store);
      const none = await t.store.createMessage({
        message: { type: "order.created.v1", payload: "just a string" },
        deliveries: [],
      });
      expect(none.message).toMatchObject({
        tenant: "default",
        source: null,
        payload: "just a string",
      });
      expect(none.deliveries).toEqual([]);
      expect(await t.store.getMessage(none.message.id)).toEqual({
        message: none.message,
        deliveries: [],
        filtered: [],
      });
      const later = await t.store.createMessage({
        message: { type: "order.created.v1", payload: {} },
        deliveries: [{ endpointId: endpoint.id, maxAttempts: 1, nextAttemptAt: START + 60_000 }],
      });
      expect(later.deliveries[0]!.nextAttemptAt).toBe(iso(START + 60_000));
      expect(await t.store.getMessage("msg_01JGZZZZZZZZZZZZZZZZZZZZZZ")).toBeUndefined();
    });

    it("returns the first message for a repeated idempotency key and creates nothing", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const first = await dispatch(t.store, [a.id], { idempotencyKey: "key-1" });
      t.clock.advance(1_000);
      const again = await dispatch(t.store, [a.id, b.id], {
        idempotencyKey: "key-1",
        payload: { different: true },
      });
      expect(again.created).toBe(false);
      expect(again.message).toEqual(first.message);
      expect(again.deliveries).toEqual(first.deliveries);
      expect(await allDeliveryIds(t.store)).toEqual(first.deliveries.map((d) => d.id));
    });

    it("scopes idempotency keys by tenant", async () => {
      const endpoint = await makeEndpoint(t.store);
      const acme = await dispatch(t.store, [endpoint.id], { idempotencyKey: "k", tenant: "acme" });
      const globex = await dispatch(t.store, [endpoint.id], {
        idempotencyKey: "k",
        tenant: "globex",
      });
      expect(globex.created).toBe(true);
      expect(globex.message.id).not.toBe(acme.message.id);
    });

    it("stores nothing when an endpoint is unknown (endpoint.not_found)", async () => {
      const endpoint = await makeEndpoint(t.store);
      await expectCode(
        dispatch(t.store, [endpoint.id, "ep_missing"], { idempotencyKey: "k" }),
        "endpoint.not_found",
      );
      expect(await allDeliveryIds(t.store)).toEqual([]);
      // The key was not taken by the failed call.
      expect((await dispatch(t.store, [endpoint.id], { idempotencyKey: "k" })).created).toBe(true);
    });

    it("refuses payloads and deliveries that would not round-trip (message.invalid)", async () => {
      const endpoint = await makeEndpoint(t.store);
      const bad = [
        { payload: undefined },
        { payload: { n: Number.NaN } },
        { payload: { at: new Date() } },
        { payload: { s: "nul \u0000 inside" } },
        { type: "" },
        { type: "has space" },
        { idempotencyKey: "" },
      ];
      for (const message of bad) {
        await expectCode(dispatch(t.store, [endpoint.id], message as never), "message.invalid");
      }
      await expectCode(dispatch(t.store, [endpoint.id, endpoint.id]), "message.invalid");
      await expectCode(dispatch(t.store, [endpoint.id], {}, 0), "message.invalid");
      expect(await allDeliveryIds(t.store)).toEqual([]);
    });

    it("keeps an inbound idempotency key as given: not unique, beside the API key, read back by every path", async () => {
      const endpoint = await makeEndpoint(t.store);
      const long = "k".repeat(4096);
      const [a, b, both] = await t.store.createMessages(
        [
          { source: "shop", inboundIdempotencyKey: "evt-1" },
          { source: "billing", inboundIdempotencyKey: "evt-1" },
          { source: "shop", inboundIdempotencyKey: long, idempotencyKey: "evt-1" },
        ].map((message) => ({
          message: { type: "order.created.v1", payload: {}, ...message },
          deliveries: [{ endpointId: endpoint.id, maxAttempts: 3 }],
        })),
      );
      expect([a, b, both].map((r) => r!.created)).toEqual([true, true, true]);
      expect([a, b, both].map((r) => r!.message.inboundIdempotencyKey)).toEqual([
        "evt-1",
        "evt-1",
        long,
      ]);
      expect(both!.message.idempotencyKey).toBe("evt-1");
      const single = await dispatch(t.store, [endpoint.id], { inboundIdempotencyKey: "evt-2" });
      for (const result of [a!, b!, both!, single]) {
        expect((await t.store.getMessage(result.message.id))?.message).toEqual(result.message);
      }
      const claimed = await claimAll(t.store, "w1");
      expect(new Map(claimed.map((c) => [c.message.id, c.message]))).toEqual(
        new Map([a!, b!, both!, single].map((r) => [r.message.id, r.message])),
      );
      for (const bad of ["", long + "k", 42]) {
        await expectCode(
          dispatch(t.store, [endpoint.id], { inboundIdempotencyKey: bad as string }),
          "message.invalid",
        );
      }
    });

    it("20 concurrent identical calls, over several connections, store one message", async () => {
      const endpoint = await makeEndpoint(t.store);
      const handles = [t.store, await t.connect(), await t.connect(), await t.connect()];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          dispatch(handles[i % handles.length]!, [endpoint.id], { idempotencyKey: "same" }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(new Set(results.map((r) => r.deliveries[0]!.id)).size).toBe(1);
      expect(await allDeliveryIds(t.store)).toHaveLength(1);
    });
  });
}
