// DeliveryStore contract, endpoint filters: every backend stores an endpoint's filter as the
// canonical JSON it was given (validated, `filter.invalid` naming the path), reads it back
// compiled, and stores the endpoints a message was filtered out of with the message.
import { describe, expect, it } from "vitest";
import { matchesFilter } from "../../../packages/core/src/model/endpointFilter.js";
import {
  type ContractContext,
  dispatch,
  expectCode,
  iso,
  makeEndpoint,
  START,
} from "./fixtures.js";

const FILTER = {
  payload: { total: { $gte: 100 }, currency: { $in: ["EUR", "USD"] }, note: null },
  headers: { "x-shop": { $startsWith: "shop-" } },
  $not: { payload: { test: true } },
};

export function filterContract(t: ContractContext): void {
  describe("endpoint filters", () => {
    it("round-trips a filter through create, read, another handle and the list; null by default", async () => {
      const plain = await makeEndpoint(t.store);
      expect(plain.filter).toBeNull();
      const endpoint = await makeEndpoint(t.store, { filter: FILTER });
      expect(endpoint.filter?.json).toEqual(FILTER);
      const other = await t.connect();
      for (const read of [
        await t.store.getEndpoint(endpoint.id),
        await other.getEndpoint(endpoint.id),
        (await t.store.listEndpoints()).data.find((e) => e.id === endpoint.id),
      ]) {
        expect(read?.filter?.json).toEqual(FILTER);
        // Read back compiled: it evaluates like the filter given.
        const subject = (total: number) => ({
          payload: { total, currency: "EUR", note: null },
          headers: { "x-shop": "shop-1" },
        });
        expect(matchesFilter(read!.filter!, subject(150))).toBe(true);
        expect(matchesFilter(read!.filter!, subject(50))).toBe(false);
      }
    });

    it("keeps the canonical JSON: key order, unicode, -0 as 0, large and small numbers", async () => {
      const filter = { payload: { "é\u2028": 1.5e300, z: -0, a: { $lt: 1e-7 }, "a.b": "x" } };
      const endpoint = await makeEndpoint(t.store, { filter });
      const read = await (await t.connect()).getEndpoint(endpoint.id);
      expect(JSON.stringify(read?.filter?.json)).toBe(JSON.stringify(filter));
      expect(Object.keys((read!.filter!.json as { payload: object }).payload)).toEqual([
        "é\u2028",
        "z",
        "a",
        "a.b",
      ]);
    });

    it("patches the filter (set, keep, clear) and keeps it across other updates", async () => {
      const endpoint = await makeEndpoint(t.store);
      const set = await t.store.updateEndpoint(endpoint.id, { filter: FILTER });
      expect(set.filter?.json).toEqual(FILTER);
      const other = await t.store.updateEndpoint(endpoint.id, { description: "kept" });
      expect(other.filter?.json).toEqual(FILTER);
      expect((await t.store.getEndpoint(endpoint.id))?.filter?.json).toEqual(FILTER);
      const disabled = await t.store.setEndpointEnabled(endpoint.id, false, "paused");
      expect(disabled.filter?.json).toEqual(FILTER);
      const cleared = await t.store.updateEndpoint(endpoint.id, { filter: null });
      expect(cleared.filter).toBeNull();
      expect((await t.store.getEndpoint(endpoint.id))?.filter).toBeNull();
    });

    it("refuses an invalid filter with filter.invalid naming its path, and stores nothing", async () => {
      const error = await makeEndpoint(t.store, {
        filter: { payload: { total: { $gte: [1] } } },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "filter.invalid",
        message: expect.stringMatching(/^filter\.payload\.total\.\$gte: /),
        details: { path: "filter.payload.total.$gte" },
      });
      expect((await t.store.listEndpoints()).data).toEqual([]);
      const endpoint = await makeEndpoint(t.store, { filter: FILTER });
      await expectCode(
        t.store.updateEndpoint(endpoint.id, { filter: { body: {} } }),
        "filter.invalid",
      );
      expect((await t.store.getEndpoint(endpoint.id))?.filter?.json).toEqual(FILTER);
    });

    it("stores the filtered endpoints with the message, by endpoint id, also in batches", async () => {
      const delivered = await makeEndpoint(t.store, { id: "ep_b" });
      await makeEndpoint(t.store, { id: "ep_c" });
      await makeEndpoint(t.store, { id: "ep_a" });
      const result = await t.store.createMessage({
        message: { type: "order.created.v1", payload: {} },
        deliveries: [{ endpointId: delivered.id, maxAttempts: 1 }],
        filtered: ["ep_c", "ep_a"],
      });
      const expected = ["ep_a", "ep_c"].map((endpointId) => ({
        messageId: result.message.id,
        endpointId,
        filteredAt: iso(START),
      }));
      expect((await t.store.getMessage(result.message.id))?.filtered).toEqual(expected);
      expect((await (await t.connect()).getMessage(result.message.id))?.filtered).toEqual(expected);
      const batch = await t.store.createMessages([
        { message: { type: "a.b", payload: 1 }, deliveries: [], filtered: ["ep_b"] },
        { message: { type: "a.b", payload: 2 }, deliveries: [] },
        {
          message: { type: "a.b", payload: 3 },
          deliveries: [{ endpointId: "ep_a", maxAttempts: 1 }],
          filtered: ["ep_b", "ep_c"],
        },
      ]);
      const filteredIds = async (id: string) =>
        ((await t.store.getMessage(id))?.filtered ?? []).map((f) => f.endpointId);
      expect(await filteredIds(batch[0]!.message.id)).toEqual(["ep_b"]);
      expect(await filteredIds(batch[1]!.message.id)).toEqual([]);
      expect(await filteredIds(batch[2]!.message.id)).toEqual(["ep_b", "ep_c"]);
      // Deleting an endpoint deletes its deliveries, not what it filtered out.
      expect(await t.store.deleteEndpoint("ep_b")).toBe(true);
      expect(await filteredIds(batch[0]!.message.id)).toEqual(["ep_b"]);
    });

    it("an idempotent repeat stores nothing more; a filtered id twice or also delivered is refused", async () => {
      const endpoint = await makeEndpoint(t.store);
      const input = {
        message: { type: "order.created.v1", payload: {}, idempotencyKey: "k1" },
        deliveries: [],
        filtered: [endpoint.id],
      };
      const first = await t.store.createMessage(input);
      const again = await t.store.createMessage({ ...input, filtered: [] });
      expect(again.created).toBe(false);
      expect((await t.store.getMessage(first.message.id))?.filtered).toHaveLength(1);
      await expectCode(
        t.store.createMessage({
          message: { type: "a.b", payload: {} },
          deliveries: [],
          filtered: [endpoint.id, endpoint.id],
        }),
        "message.invalid",
      );
      await expectCode(
        dispatch(t.store, [endpoint.id]).then(() =>
          t.store.createMessage({
            message: { type: "a.b", payload: {} },
            deliveries: [{ endpointId: endpoint.id, maxAttempts: 1 }],
            filtered: [endpoint.id],
          }),
        ),
        "message.invalid",
      );
    });
  });
}
