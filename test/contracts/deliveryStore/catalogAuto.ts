// DeliveryStore contract, the self-filling catalogue: every stored message counts in its event
// type's entry, written with the message; a type seen for the first time is recorded `auto`.
import { describe, expect, it } from "vitest";
import type { EventTypeRecord } from "../../../packages/core/src/store/ports.js";
import { input } from "./batches.js";
import { type ContractContext, dedupe, dispatch, expectCode, iso, START } from "./fixtures.js";

/** A type first recorded from a message at `at`, not declared. */
const recorded = (name: string, at: number, count: number): EventTypeRecord => ({
  name,
  description: "",
  schema: null,
  deprecated: false,
  auto: true,
  firstSeenAt: iso(at),
  lastSeenAt: iso(at),
  count,
  createdAt: iso(at),
  updatedAt: iso(at),
});

export function catalogAutoContract(t: ContractContext): void {
  /** The entry as read back by name and in the list, which must agree. */
  async function stored(name: string): Promise<EventTypeRecord | undefined> {
    const one = await t.store.getEventType(name);
    expect((await t.store.listEventTypes()).find((e) => e.name === name)).toEqual(one);
    return one;
  }

  describe("event types recorded from messages", () => {
    it("records a type the first time a message of it is stored: auto, seen, counted", async () => {
      expect(await t.store.listEventTypes()).toEqual([]);
      await dispatch(t.store, [], { type: "order.created.v1" });
      expect(await stored("order.created.v1")).toEqual(recorded("order.created.v1", START, 1));
      // Another handle (another process) reads the same entry.
      const other = await t.connect();
      expect(await other.getEventType("order.created.v1")).toEqual(
        recorded("order.created.v1", START, 1),
      );
    });

    it("counts each stored message, not duplicates; last seen moves, updatedAt does not", async () => {
      await dispatch(t.store, [], { idempotencyKey: "k1" });
      t.clock.advance(5_000);
      await dispatch(t.store, [], { idempotencyKey: "k2" });
      // The same idempotency key, and the same live dedupe key: nothing stored, nothing counted.
      const again = await dispatch(t.store, [], { idempotencyKey: "k2" });
      expect(again.created).toBe(false);
      const keyed = { message: { type: "order.created.v1", payload: {} }, deliveries: [] };
      expect((await t.store.createMessage({ ...keyed, dedupe: dedupe("d1") })).created).toBe(true);
      expect((await t.store.createMessage({ ...keyed, dedupe: dedupe("d1") })).created).toBe(false);
      expect(await stored("order.created.v1")).toEqual({
        ...recorded("order.created.v1", START, 3),
        lastSeenAt: iso(START + 5_000),
      });
    });

    it("counts a batch by type, with or without idempotency keys", async () => {
      // Without idempotency keys and with distinct dedupe keys (PostgreSQL's one-statement path).
      await t.store.createMessages([
        input([], { type: "shop.paid" }, dedupe("a")),
        input([], { type: "shop.refunded" }, dedupe("b")),
        input([], { type: "shop.paid" }, dedupe("c")),
        input([], { type: "shop.paid" }),
      ]);
      expect(await stored("shop.paid")).toEqual(recorded("shop.paid", START, 3));
      expect(await stored("shop.refunded")).toEqual(recorded("shop.refunded", START, 1));
      t.clock.advance(1_000);
      // With idempotency keys, one input a duplicate of another (the transaction path).
      await t.store.createMessages([
        input([], { type: "shop.refunded", idempotencyKey: "r1" }),
        input([], { type: "shop.refunded", idempotencyKey: "r1" }),
        input([], { type: "shop.paid", idempotencyKey: "p1" }),
      ]);
      expect(await stored("shop.paid")).toEqual({
        ...recorded("shop.paid", START, 4),
        lastSeenAt: iso(START + 1_000),
      });
      expect(await stored("shop.refunded")).toEqual({
        ...recorded("shop.refunded", START, 2),
        lastSeenAt: iso(START + 1_000),
      });
      expect((await t.store.listEventTypes()).map((e) => e.name)).toEqual([
        "shop.paid",
        "shop.refunded",
      ]);
    });

    it("records nothing of a batch that fails", async () => {
      await expectCode(
        t.store.createMessages([input([]), input(["ep_missing"], { type: "shop.paid" })]),
        "endpoint.not_found",
      );
      await expectCode(dispatch(t.store, ["ep_missing"]), "endpoint.not_found");
      expect(await t.store.listEventTypes()).toEqual([]);
    });

    it("a declaration makes a recorded type declared and keeps its counts", async () => {
      await dispatch(t.store, []);
      await dispatch(t.store, []);
      t.clock.advance(2_000);
      const schema = { type: "object" };
      const declared = await t.store.upsertEventType({
        name: "order.created.v1",
        description: "An order was placed",
        schema,
      });
      const expected = {
        ...recorded("order.created.v1", START, 2),
        description: "An order was placed",
        schema,
        auto: false,
        updatedAt: iso(START + 2_000),
      };
      expect(declared).toEqual(expected);
      expect(await stored("order.created.v1")).toEqual(expected);
      // Messages keep counting; the declaration (and its updatedAt) stays.
      t.clock.advance(3_000);
      await dispatch(t.store, []);
      expect(await stored("order.created.v1")).toEqual({
        ...expected,
        lastSeenAt: iso(START + 5_000),
        count: 3,
      });
    });

    it("a declared type gets its sightings from its first message", async () => {
      await t.store.upsertEventType({ name: "order.created.v1", deprecated: true });
      expect(await stored("order.created.v1")).toMatchObject({
        auto: false,
        firstSeenAt: null,
        lastSeenAt: null,
        count: 0,
      });
      t.clock.advance(1_000);
      await dispatch(t.store, []);
      expect(await stored("order.created.v1")).toEqual({
        ...recorded("order.created.v1", START, 1),
        deprecated: true,
        auto: false,
        firstSeenAt: iso(START + 1_000),
        lastSeenAt: iso(START + 1_000),
      });
    });

    it("a deleted type is recorded anew by its next message", async () => {
      await dispatch(t.store, []);
      expect(await t.store.deleteEventType("order.created.v1")).toBe(true);
      expect(await t.store.getEventType("order.created.v1")).toBeUndefined();
      t.clock.advance(1_000);
      await dispatch(t.store, []);
      expect(await stored("order.created.v1")).toEqual(
        recorded("order.created.v1", START + 1_000, 1),
      );
    });

    it("counts every message written concurrently through several handles", async () => {
      const handles = [t.store, await t.connect(), await t.connect()];
      await Promise.all(
        handles.flatMap((store, h) =>
          Array.from({ length: 10 }, (_, i) =>
            i % 2 === 0
              ? dispatch(store, [], { type: i % 4 === 0 ? "shop.paid" : "shop.refunded" })
              : store.createMessages([
                  input([], { type: "shop.paid" }, dedupe(`h${h}-${i}`)),
                  input([], { type: "shop.refunded" }),
                ]),
          ),
        ),
      );
      // Per handle: 5 single messages (3 paid, 2 refunded) and 5 batches of one of each.
      expect((await stored("shop.paid"))?.count).toBe(3 * 8);
      expect((await stored("shop.refunded"))?.count).toBe(3 * 7);
    });
  });
}
