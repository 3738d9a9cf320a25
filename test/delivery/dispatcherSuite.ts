// The dispatcher's behaviour on any DeliveryStore: memory and SQLite (unit) and PostgreSQL (int)
// run this suite unchanged, each test on an empty store driven by a ManualClock.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createDispatcher,
  type DispatchInput,
} from "../../packages/core/src/delivery/dispatcher.js";
import type {
  DeliveryRecord,
  DeliveryStore,
  EndpointInput,
  EndpointRecord,
} from "../../packages/core/src/store/deliveryPorts.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import type { JsonObject } from "../../packages/webhooks/src/core/json.js";

export const START = Date.UTC(2025, 0, 1);

export interface DispatcherHarness {
  store: DeliveryStore;
  close(): Promise<void>;
}

export type DispatcherStoreFactory = (clock: ManualClock) => Promise<DispatcherHarness>;

const ORDER_SCHEMA: JsonObject = {
  type: "object",
  required: ["id", "items"],
  properties: {
    id: { type: "string" },
    items: {
      type: "array",
      items: {
        type: "object",
        required: ["sku", "price"],
        properties: { sku: { type: "string" }, price: { type: "number" } },
      },
    },
  },
};

const order = (overrides: Partial<DispatchInput> = {}): DispatchInput => ({
  type: "order.created.v1",
  payload: { id: "o_1", items: [{ sku: "A-1", price: 12.5 }] },
  ...overrides,
});

async function allDeliveries(store: DeliveryStore): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listDeliveries({ limit: 1000, cursor, order: "oldest" });
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

export function testDispatcher(name: string, factory: DispatcherStoreFactory): void {
  describe(`dispatcher: ${name}`, () => {
    let harness: DispatcherHarness;
    let store: DeliveryStore;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock(START);
      harness = await factory(clock);
      store = harness.store;
    });

    afterEach(async () => {
      await harness.close();
    });

    const endpoint = (input: Partial<EndpointInput> = {}): Promise<EndpointRecord> =>
      store.createEndpoint({ target: "https://receiver.example/hooks", eventTypes: [], ...input });

    describe("fan-out", () => {
      it("creates one pending delivery per matching enabled endpoint of the tenant", async () => {
        const prefix = await endpoint({ eventTypes: ["order.*"] });
        const all = await endpoint({ eventTypes: ["*"] });
        const exact = await endpoint({ eventTypes: ["invoice.paid.v1", "order.created.v1"] });
        await endpoint({ eventTypes: ["invoice.*"] });
        await endpoint({ eventTypes: ["order.created.v2"] });
        await endpoint({ eventTypes: ["order.*"], enabled: false });
        const acme = await endpoint({ eventTypes: ["order.*"], tenant: "acme" });
        const dispatcher = createDispatcher({ store, clock });

        const result = await dispatcher.dispatch(order());

        expect(result).toMatchObject({ deliveries: 3, created: true, duplicate: false });
        expect(result.deprecated).toBe(false);
        expect(result.messageId).toMatch(/^msg_/);
        const stored = await store.getMessage(result.messageId);
        expect(stored?.message).toEqual(result.message);
        expect(stored?.message).toMatchObject({
          tenant: "default",
          type: "order.created.v1",
          source: null,
          idempotencyKey: null,
          inboundIdempotencyKey: null,
          payload: order().payload,
        });
        expect(stored?.deliveries.map((d) => d.endpointId).sort()).toEqual(
          [prefix.id, all.id, exact.id].sort(),
        );
        expect(stored?.deliveries.map((d) => d.id).sort()).toEqual([...result.deliveryIds].sort());
        for (const delivery of stored?.deliveries ?? []) {
          expect(delivery).toMatchObject({
            status: "pending",
            attempts: 0,
            maxAttempts: 8,
            nextAttemptAt: new Date(START).toISOString(),
          });
        }

        const forAcme = await dispatcher.dispatch(order({ tenant: "acme", source: "shop" }));
        expect(forAcme.deliveries).toBe(1);
        const acmeMessage = await store.getMessage(forAcme.messageId);
        expect(acmeMessage?.message).toMatchObject({ tenant: "acme", source: "shop" });
        expect(acmeMessage?.deliveries.map((d) => d.endpointId)).toEqual([acme.id]);
      });

      it("`order.*` does not match `order` itself, and other types reach only their endpoints", async () => {
        const prefix = await endpoint({ eventTypes: ["order.*"] });
        const all = await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock });
        const bare = await dispatcher.dispatch({ type: "order", payload: {} });
        expect(
          (await store.getMessage(bare.messageId))?.deliveries.map((d) => d.endpointId),
        ).toEqual([all.id]);
        const nested = await dispatcher.dispatch({ type: "order.item.added.v1", payload: {} });
        expect(nested.deliveries).toBe(2);
        expect(
          (await store.getMessage(nested.messageId))?.deliveries.map((d) => d.endpointId).sort(),
        ).toEqual([prefix.id, all.id].sort());
      });

      it("stores a message without deliveries when no endpoint matches", async () => {
        await endpoint({ eventTypes: ["invoice.*"] });
        const result = await createDispatcher({ store, clock }).dispatch(order());
        expect(result).toMatchObject({ deliveries: 0, deliveryIds: [], created: true });
        const stored = await store.getMessage(result.messageId);
        expect(stored?.message.type).toBe("order.created.v1");
        expect(stored?.deliveries).toEqual([]);
        expect(await allDeliveries(store)).toEqual([]);
      });

      it("takes max attempts from the endpoint's policy, else the dispatcher's default", async () => {
        const own = await endpoint({ eventTypes: ["*"], retry: { schedule_s: [1, 2] } });
        const byDefault = await endpoint({ eventTypes: ["*"] });
        const maxBy = async (dispatcher: ReturnType<typeof createDispatcher>) => {
          const { messageId } = await dispatcher.dispatch(order());
          const stored = await store.getMessage(messageId);
          return Object.fromEntries(stored!.deliveries.map((d) => [d.endpointId, d.maxAttempts]));
        };
        expect(await maxBy(createDispatcher({ store, clock }))).toEqual({
          [own.id]: 3,
          [byDefault.id]: 8,
        });
        const linear = createDispatcher({
          store,
          clock,
          defaultRetry: { backoff: "linear", base_s: 1, max_attempts: 4 },
        });
        expect(await maxBy(linear)).toEqual({ [own.id]: 3, [byDefault.id]: 4 });
      });

      it("makes deliveries due at the dispatcher's clock, or at the message's time without one", async () => {
        await endpoint({ eventTypes: ["*"] });
        clock.advance(5_000);
        const withClock = await createDispatcher({ store, clock }).dispatch(order());
        const due = (await store.getMessage(withClock.messageId))?.deliveries[0]?.nextAttemptAt;
        expect(due).toBe(new Date(START + 5_000).toISOString());
        clock.advance(1_000);
        const without = await createDispatcher({ store }).dispatch(order());
        const stored = await store.getMessage(without.messageId);
        expect(stored?.deliveries[0]?.nextAttemptAt).toBe(stored?.message.createdAt);
        expect(stored?.message.createdAt).toBe(new Date(START + 6_000).toISOString());
      });

      it("matches again when an endpoint is deleted between matching and storing", async () => {
        const kept = await endpoint({ eventTypes: ["*"] });
        const doomed = await endpoint({ eventTypes: ["*"] });
        let deleted = false;
        const racing: DeliveryStore = {
          ...store,
          async createMessage(input) {
            if (!deleted) {
              deleted = true;
              await store.deleteEndpoint(doomed.id);
            }
            return store.createMessage(input);
          },
        };
        const result = await createDispatcher({ store: racing, clock }).dispatch(order());
        expect(result.deliveries).toBe(1);
        const stored = await store.getMessage(result.messageId);
        expect(stored?.deliveries.map((d) => d.endpointId)).toEqual([kept.id]);
      });
    });

    describe("idempotency", () => {
      it("returns the first message and its deliveries for a repeated key, creating nothing", async () => {
        await endpoint({ eventTypes: ["order.*"] });
        await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock });
        const first = await dispatcher.dispatch(order({ idempotencyKey: "key-1" }));
        clock.advance(1_000);
        // A later endpoint and another payload change nothing for a repeated key.
        await endpoint({ eventTypes: ["*"] });
        const second = await dispatcher.dispatch(
          order({ idempotencyKey: "key-1", payload: { id: "o_2", items: [] } }),
        );

        expect(first).toMatchObject({ created: true, duplicate: false, deliveries: 2 });
        expect(second).toMatchObject({
          messageId: first.messageId,
          created: false,
          duplicate: true,
          deliveries: 2,
        });
        expect([...second.deliveryIds].sort()).toEqual([...first.deliveryIds].sort());
        expect(second.message).toEqual(first.message);
        const deliveries = await allDeliveries(store);
        expect(deliveries).toHaveLength(2);
        expect(new Set(deliveries.map((d) => d.messageId))).toEqual(new Set([first.messageId]));
      });

      it("scopes keys by tenant", async () => {
        await endpoint({ eventTypes: ["*"] });
        await endpoint({ eventTypes: ["*"], tenant: "acme" });
        const dispatcher = createDispatcher({ store, clock });
        const a = await dispatcher.dispatch(order({ idempotencyKey: "same" }));
        const b = await dispatcher.dispatch(order({ idempotencyKey: "same", tenant: "acme" }));
        expect(b.messageId).not.toBe(a.messageId);
        expect(b.created).toBe(true);
      });

      it("stores one message for 20 concurrent identical dispatches", async () => {
        await endpoint({ eventTypes: ["order.*"] });
        await endpoint({ eventTypes: ["*"] });
        await endpoint({ eventTypes: ["order.created.v1"] });
        const dispatcher = createDispatcher({ store, clock });
        const results = await Promise.all(
          Array.from({ length: 20 }, () => dispatcher.dispatch(order({ idempotencyKey: "burst" }))),
        );
        expect(new Set(results.map((r) => r.messageId)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(results.filter((r) => r.duplicate)).toHaveLength(19);
        for (const r of results) expect(r.deliveries).toBe(3);
        const deliveries = await allDeliveries(store);
        expect(deliveries).toHaveLength(3);
        expect(new Set(deliveries.map((d) => d.messageId))).toEqual(
          new Set([results[0]!.messageId]),
        );
      });

      it("without a key, every dispatch is a new message", async () => {
        await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock });
        const a = await dispatcher.dispatch(order());
        const b = await dispatcher.dispatch(order());
        expect(a.messageId).not.toBe(b.messageId);
        expect(await allDeliveries(store)).toHaveLength(2);
      });
    });

    describe("payload schemas", () => {
      it("refuses a payload that breaks the schema, naming the path, and stores nothing", async () => {
        await store.upsertEventType({ name: "order.created.v1", schema: ORDER_SCHEMA });
        await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock });
        const bad = order({ payload: { id: "o_1", items: [{ sku: "A-1", price: "12.50" }] } });
        const error = await dispatcher.dispatch(bad).catch((e: unknown) => e);
        expect(error).toMatchObject({
          name: "HeraldError",
          code: "payload.invalid",
          details: { type: "order.created.v1", path: "/items/0/price", keyword: "type" },
        });
        expect((error as Error).message).toContain("/items/0/price must be number");

        const missing = order({ payload: { id: "o_1", items: [{ price: 1 }] } });
        await expect(dispatcher.dispatch(missing)).rejects.toMatchObject({
          code: "payload.invalid",
          details: { path: "/items/0/sku" },
        });
        expect(await allDeliveries(store)).toEqual([]);
        expect((await dispatcher.dispatch(order())).created).toBe(true);
      });

      it("uses the schema's current version after the event type is updated", async () => {
        await store.upsertEventType({ name: "order.created.v1", schema: ORDER_SCHEMA });
        const dispatcher = createDispatcher({ store, clock });
        const loose = order({ payload: { anything: true } });
        await expect(dispatcher.dispatch(loose)).rejects.toMatchObject({ code: "payload.invalid" });
        clock.advance(1);
        await store.upsertEventType({ name: "order.created.v1", schema: { type: "object" } });
        expect((await dispatcher.dispatch(loose)).created).toBe(true);
      });

      it("accepts a 2020-12 schema", async () => {
        await store.upsertEventType({
          name: "user.signed_up.v1",
          schema: {
            $schema: "https://json-schema.org/draft/2020-12/schema",
            $id: "https://example.com/user.signed_up.v1",
            type: "object",
            properties: { tags: { type: "array", prefixItems: [{ type: "string" }] } },
          },
        });
        const dispatcher = createDispatcher({ store, clock });
        await expect(
          dispatcher.dispatch({ type: "user.signed_up.v1", payload: { tags: [1] } }),
        ).rejects.toMatchObject({ code: "payload.invalid", details: { path: "/tags/0" } });
        const ok = await dispatcher.dispatch({
          type: "user.signed_up.v1",
          payload: { tags: ["a"] },
        });
        expect(ok.created).toBe(true);
      });

      it("does not validate types without a schema, unregistered types, or when turned off", async () => {
        await store.upsertEventType({ name: "order.created.v1" });
        const dispatcher = createDispatcher({ store, clock });
        const odd = { payload: { whatever: [1, "two"] } };
        expect((await dispatcher.dispatch(order(odd))).created).toBe(true);
        expect(
          (await dispatcher.dispatch(order({ ...odd, type: "never.registered" }))).created,
        ).toBe(true);
        await store.upsertEventType({ name: "invoice.paid.v1", schema: ORDER_SCHEMA });
        const unchecked = createDispatcher({ store, clock, validatePayloads: false });
        const result = await unchecked.dispatch(order({ ...odd, type: "invoice.paid.v1" }));
        expect(result.created).toBe(true);
      });

      it("reports a schema that does not compile as event_type.invalid", async () => {
        await store.upsertEventType({ name: "order.created.v1", schema: { type: "nonsense" } });
        await expect(createDispatcher({ store, clock }).dispatch(order())).rejects.toMatchObject({
          code: "event_type.invalid",
          details: { type: "order.created.v1" },
        });
      });

      it("still dispatches deprecated event types, and says so", async () => {
        await store.upsertEventType({
          name: "order.created.v1",
          schema: ORDER_SCHEMA,
          deprecated: true,
        });
        await endpoint({ eventTypes: ["order.*"] });
        const result = await createDispatcher({ store, clock }).dispatch(order());
        expect(result).toMatchObject({ deprecated: true, created: true, deliveries: 1 });
      });
    });

    describe("the catalogue", () => {
      it("records a type the first time it is dispatched, and counts the messages", async () => {
        const dispatcher = createDispatcher({ store, clock });
        await dispatcher.dispatch(order({ idempotencyKey: "k1" }));
        clock.advance(1_000);
        await dispatcher.dispatch(order({ idempotencyKey: "k2" }));
        await dispatcher.dispatch(order({ idempotencyKey: "k2" })); // a duplicate: not counted
        expect(await store.getEventType("order.created.v1")).toMatchObject({
          auto: true,
          schema: null,
          firstSeenAt: new Date(START).toISOString(),
          lastSeenAt: new Date(START + 1_000).toISOString(),
          count: 2,
        });
      });

      it("closed, refuses a type it does not list (event_type.unknown), storing nothing", async () => {
        await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock, closedCatalog: true });
        await expect(dispatcher.dispatch(order())).rejects.toMatchObject({
          code: "event_type.unknown",
          details: { type: "order.created.v1" },
        });
        expect(await allDeliveries(store)).toEqual([]);
        expect(await store.listEventTypes()).toEqual([]);
        // A declared type is accepted, and counted.
        await store.upsertEventType({ name: "order.created.v1", schema: ORDER_SCHEMA });
        expect(await dispatcher.dispatch(order())).toMatchObject({ created: true, deliveries: 1 });
        expect(await store.getEventType("order.created.v1")).toMatchObject({
          auto: false,
          count: 1,
        });
      });
    });

    describe("input", () => {
      const valid = order();
      it.each<[string, unknown, string]>([
        ["no input", null, "input"],
        ["an array as input", [], "input"],
        ["a missing type", { payload: {} }, "type"],
        ["an empty type", { type: "", payload: {} }, "type"],
        ["a type pattern", { type: "order.*", payload: {} }, "type"],
        ["a type with an empty segment", { type: "order..created", payload: {} }, "type"],
        ["a type with spaces", { type: "order created", payload: {} }, "type"],
        ["a missing payload", { type: valid.type }, "payload"],
        ["an array payload", { type: valid.type, payload: [1] }, "payload"],
        ["a string payload", { type: valid.type, payload: "{}" }, "payload"],
        ["a payload with undefined", { type: valid.type, payload: { a: undefined } }, "payload.a"],
        [
          "a payload with NaN",
          { type: valid.type, payload: { items: [{ price: Number.NaN }] } },
          "payload.items[0].price",
        ],
        ["a Date payload", { type: valid.type, payload: new Date(0) }, "payload"],
        ["an empty tenant", { ...valid, tenant: "" }, "tenant"],
        ["a numeric idempotency key", { ...valid, idempotencyKey: 42 }, "idempotencyKey"],
        ["an empty idempotency key", { ...valid, idempotencyKey: "" }, "idempotencyKey"],
        ["a numeric source", { ...valid, source: 7 }, "source"],
      ])("refuses %s with message.invalid", async (_, input, field) => {
        await endpoint({ eventTypes: ["*"] });
        const dispatcher = createDispatcher({ store, clock });
        const error = await dispatcher.dispatch(input as DispatchInput).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "message.invalid", details: { field } });
        expect((error as Error).message).toContain(field);
        expect(await allDeliveries(store)).toEqual([]);
      });
    });
  });
}
