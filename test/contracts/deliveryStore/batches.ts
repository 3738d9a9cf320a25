// DeliveryStore contract, group commit: createMessages stores a batch in one transaction, in
// order; a later input sees the earlier ones; any error stores nothing of the batch.
import { describe, expect, it } from "vitest";
import type { CreateMessageInput } from "../../../packages/core/src/store/ports.js";
import {
  allDeliveryIds,
  type ContractContext,
  dispatch,
  expectCode,
  iso,
  makeEndpoint,
  START,
} from "./fixtures.js";

/** An input delivering to `endpointIds`; `extra` is merged into the message. */
export function input(
  endpointIds: readonly string[],
  extra: Partial<CreateMessageInput["message"]> = {},
  dedupe?: CreateMessageInput["dedupe"],
): CreateMessageInput {
  return {
    message: { type: "order.created.v1", payload: { n: 1 }, ...extra },
    deliveries: endpointIds.map((endpointId) => ({ endpointId, maxAttempts: 3 })),
    ...(dedupe === undefined ? {} : { dedupe }),
  };
}

export function batchContract(t: ContractContext): void {
  describe("createMessages (group commit)", () => {
    it("stores every input of a batch, in order, one result per input", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const payloads = [{ i: 0 }, null, "text", [1, 2], { i: 4 }];
      const results = await t.store.createMessages(
        payloads.map((payload, i) => ({
          message: { type: "order.created.v1", payload, idempotencyKey: `k-${i}` },
          deliveries: i % 2 === 0 ? [{ endpointId: a.id, maxAttempts: 2 }] : [],
          dedupe: { source: "shop", key: `d-${i}`, expiresAt: START + 60_000 },
        })),
      );
      expect(results.map((r) => r.created)).toEqual([true, true, true, true, true]);
      expect(results.map((r) => r.message.payload)).toEqual(payloads);
      expect(results.map((r) => r.message.idempotencyKey)).toEqual(
        payloads.map((_, i) => `k-${i}`),
      );
      expect(new Set(results.map((r) => r.message.id)).size).toBe(5);
      for (const result of results) {
        expect(result.message.createdAt).toBe(iso(START));
        expect(await t.store.getMessage(result.message.id)).toEqual({
          message: result.message,
          deliveries: result.deliveries,
          filtered: [],
        });
      }
      expect(results.map((r) => r.deliveries.length)).toEqual([1, 0, 1, 0, 1]);
      expect((await allDeliveryIds(t.store)).sort()).toEqual(
        results.flatMap((r) => r.deliveries.map((d) => d.id)).sort(),
      );
      // A batch of two endpoints' deliveries is claimable like any other.
      const more = await t.store.createMessages([input([a.id, b.id]), input([b.id])]);
      expect(more.map((r) => r.deliveries.length)).toEqual([2, 1]);
    });

    it("resolves an empty batch to [] and refuses a batch that is not an array", async () => {
      expect(await t.store.createMessages([])).toEqual([]);
      await expectCode(t.store.createMessages("nope" as never), "message.invalid");
    });

    it("stores nothing of the batch when one input names an unknown endpoint", async () => {
      const endpoint = await makeEndpoint(t.store);
      const dedupe = { source: "shop", key: "d", expiresAt: START + 60_000 };
      const batch = [
        input([endpoint.id], { idempotencyKey: "k-0" }),
        input([endpoint.id], { idempotencyKey: "k-1" }, dedupe),
        input([endpoint.id, "ep_missing"]),
        input([endpoint.id]),
      ];
      await expect(t.store.createMessages(batch)).rejects.toMatchObject({
        name: "HeraldError",
        code: "endpoint.not_found",
        details: { endpointId: "ep_missing", index: 2 },
      });
      expect(await allDeliveryIds(t.store)).toEqual([]);
      // Neither key was taken by the failed batch.
      const again = await t.store.createMessages([batch[0]!, batch[1]!]);
      expect(again.map((r) => r.created)).toEqual([true, true]);
      expect(await allDeliveryIds(t.store)).toHaveLength(2);
    });

    it("stores nothing of the batch when one input is invalid (details.index)", async () => {
      const endpoint = await makeEndpoint(t.store);
      const bad = input([endpoint.id], { type: "has space" });
      await expect(
        t.store.createMessages([input([endpoint.id]), bad, input([endpoint.id])]),
      ).rejects.toMatchObject({
        code: "message.invalid",
        details: { field: "type", index: 1 },
      });
      expect(await allDeliveryIds(t.store)).toEqual([]);
    });

    it("a later input with an earlier one's idempotency or dedupe key is its duplicate", async () => {
      const endpoint = await makeEndpoint(t.store);
      const dedupe = { source: "shop", key: "d", expiresAt: START + 60_000 };
      const results = await t.store.createMessages([
        input([endpoint.id], { idempotencyKey: "k", payload: "first" }),
        input([endpoint.id], { idempotencyKey: "k", payload: "second" }),
        input([endpoint.id], { payload: "third" }, dedupe),
        input([endpoint.id], { payload: "fourth" }, dedupe),
        input([endpoint.id], { idempotencyKey: "k", tenant: "other", payload: "fifth" }),
      ]);
      expect(results.map((r) => r.created)).toEqual([true, false, true, false, true]);
      expect(results[1]!.message).toEqual(results[0]!.message);
      expect(results[1]!.deliveries).toEqual(results[0]!.deliveries);
      expect(results[3]!.message).toEqual(results[2]!.message);
      expect(results[3]!.deliveries).toEqual(results[2]!.deliveries);
      expect(results[3]!.message.payload).toBe("third");
      expect(await allDeliveryIds(t.store)).toHaveLength(3);
      // Later calls see the batch's keys like any stored ones.
      const later = await dispatch(t.store, [endpoint.id], { idempotencyKey: "k" });
      expect(later).toMatchObject({ created: false, message: { id: results[0]!.message.id } });
    });

    it("createMessage and a batch of one are the same write", async () => {
      const endpoint = await makeEndpoint(t.store);
      const [batched] = await t.store.createMessages([
        input([endpoint.id], { idempotencyKey: "k" }),
      ]);
      const single = await t.store.createMessage(input([endpoint.id], { idempotencyKey: "k" }));
      expect(single).toEqual({ ...batched, created: false });
    });
  });
}
