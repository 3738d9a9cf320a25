// DeliveryStore contract, inbound dedupe keys: a live key makes a message a duplicate of the one
// holding it (also under concurrent calls from several connections), an expired key is taken
// over, pruneInboundKeys deletes expired keys; and ping.
import { describe, expect, it } from "vitest";
import type { InboundDedupe } from "../../../packages/core/src/store/ports.js";
import { input } from "./batches.js";
import {
  allDeliveryIds,
  type ContractContext,
  DEDUPE_TTL,
  dedupe,
  expectCode,
  makeEndpoint,
  START,
} from "./fixtures.js";

const TTL = DEDUPE_TTL;

export function inboundKeyContract(t: ContractContext): void {
  describe("inbound dedupe keys", () => {
    it("a live key stores nothing and returns the message holding it", async () => {
      const a = await makeEndpoint(t.store);
      const b = await makeEndpoint(t.store);
      const first = await t.store.createMessage(input([a.id], { payload: 1 }, dedupe("k")));
      expect(first.created).toBe(true);
      t.clock.advance(TTL - 1);
      const again = await t.store.createMessage(input([a.id, b.id], { payload: 2 }, dedupe("k")));
      expect(again).toEqual({ ...first, created: false });
      expect(await allDeliveryIds(t.store)).toEqual(first.deliveries.map((d) => d.id));
      // Keys are per source.
      const other = await t.store.createMessage(input([a.id], {}, dedupe("k", { source: "crm" })));
      expect(other.created).toBe(true);
    });

    it("an expired key no longer deduplicates: the next message takes it over", async () => {
      const endpoint = await makeEndpoint(t.store);
      const first = await t.store.createMessage(input([endpoint.id], {}, dedupe("k")));
      t.clock.set(START + TTL); // expired at expiresAt itself
      const second = await t.store.createMessage(
        input([endpoint.id], {}, dedupe("k", { expiresAt: START + 2 * TTL })),
      );
      expect(second.created).toBe(true);
      expect(second.message.id).not.toBe(first.message.id);
      t.clock.advance(1);
      const third = await t.store.createMessage(input([endpoint.id], {}, dedupe("k")));
      expect(third).toEqual({ ...second, created: false });
      // The first message stays: only its key went.
      expect((await t.store.getMessage(first.message.id))?.message).toEqual(first.message);
    });

    it("within a batch, a key that is already expired is taken over by the next input", async () => {
      const endpoint = await makeEndpoint(t.store);
      const results = await t.store.createMessages([
        input([endpoint.id], {}, dedupe("k", { expiresAt: START })),
        input([endpoint.id], {}, dedupe("k")),
        input([endpoint.id], {}, dedupe("k")),
      ]);
      expect(results.map((r) => r.created)).toEqual([true, true, false]);
      expect(results[2]!.message.id).toBe(results[1]!.message.id);
      const later = await t.store.createMessage(input([endpoint.id], {}, dedupe("k")));
      expect(later.message.id).toBe(results[1]!.message.id);
    });

    it("with an idempotency key and a dedupe key, either one makes a duplicate", async () => {
      const endpoint = await makeEndpoint(t.store);
      const both = (idempotencyKey: string, key: string) =>
        input([endpoint.id], { idempotencyKey }, dedupe(key));
      const first = await t.store.createMessage(both("i-1", "d-1"));
      const byIdempotency = await t.store.createMessage(both("i-1", "d-2"));
      const byDedupe = await t.store.createMessage(both("i-2", "d-1"));
      expect(byIdempotency).toEqual({ ...first, created: false });
      expect(byDedupe).toEqual({ ...first, created: false });
      // The duplicates took neither of their other keys.
      const fresh = await t.store.createMessage(both("i-2", "d-2"));
      expect(fresh.created).toBe(true);
      expect(await allDeliveryIds(t.store)).toHaveLength(2);
      // The same rules inside one batch.
      const batch = await t.store.createMessages([
        both("i-3", "d-3"),
        both("i-3", "d-4"),
        both("i-4", "d-3"),
        both("i-4", "d-4"),
      ]);
      expect(batch.map((r) => r.created)).toEqual([true, false, false, true]);
      expect(batch[1]!.message.id).toBe(batch[0]!.message.id);
      expect(batch[2]!.message.id).toBe(batch[0]!.message.id);
    });

    it("refuses a malformed dedupe (message.invalid naming the field) and stores nothing", async () => {
      const endpoint = await makeEndpoint(t.store);
      const bad: [unknown, string][] = [
        ["shop:k", "dedupe"],
        [{ ...dedupe("k"), source: "" }, "dedupe.source"],
        [{ ...dedupe("k"), source: "has space" }, "dedupe.source"],
        [{ ...dedupe("k"), key: "" }, "dedupe.key"],
        [{ ...dedupe("k"), key: 42 }, "dedupe.key"],
        [dedupe("x".repeat(1025)), "dedupe.key"],
        [dedupe("é".repeat(513)), "dedupe.key"], // 1026 bytes of UTF-8
        [dedupe("nul \u0000"), "dedupe.key"],
        [{ ...dedupe("k"), expiresAt: "tomorrow" }, "dedupe.expiresAt"],
        [{ source: "shop", key: "k" }, "dedupe.expiresAt"],
      ];
      for (const [value, field] of bad) {
        await expect(
          t.store.createMessage({ ...input([endpoint.id]), dedupe: value as InboundDedupe }),
        ).rejects.toMatchObject({ code: "message.invalid", details: { field } });
      }
      expect(await allDeliveryIds(t.store)).toEqual([]);
    });

    it("accepts the longest key and source", async () => {
      const endpoint = await makeEndpoint(t.store);
      const longest = dedupe("é".repeat(512), { source: "s".repeat(64) }); // 1024 bytes
      const first = await t.store.createMessage(input([endpoint.id], {}, longest));
      const again = await t.store.createMessage(input([endpoint.id], {}, longest));
      expect([first.created, again.created]).toEqual([true, false]);
      expect(again.message.id).toBe(first.message.id);
    });

    it("50 concurrent calls with one key, over several connections, store one message", async () => {
      const endpoint = await makeEndpoint(t.store);
      const handles = [t.store, await t.connect(), await t.connect(), await t.connect()];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const store = handles[i % handles.length]!;
          const call = input([endpoint.id], { payload: i }, dedupe("same"));
          // Every other caller sends a batch: its own fresh key, then the shared one.
          if (i % 2 === 0) return store.createMessage(call);
          return store
            .createMessages([input([endpoint.id], {}, dedupe(`own-${i}`)), call])
            .then((batch) => {
              expect(batch[0]!.created).toBe(true);
              return batch[1]!;
            });
        }),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(new Set(results.map((r) => r.deliveries[0]!.id)).size).toBe(1);
      // The winner's delivery and one per batch's own key.
      expect(await allDeliveryIds(t.store)).toHaveLength(1 + 25);
    });

    it("pruneInboundKeys deletes up to `limit` expired keys and counts them", async () => {
      const endpoint = await makeEndpoint(t.store);
      const created = await t.store.createMessages(
        [1, 2, 3, 4, 5].map((n) =>
          input([endpoint.id], {}, dedupe(`k-${n}`, { expiresAt: START + n * 1_000 })),
        ),
      );
      expect(created.every((r) => r.created)).toBe(true);
      t.clock.set(START + 3_000); // k-1, k-2 and k-3 expired
      expect(await t.store.pruneInboundKeys({ limit: 2 })).toBe(2);
      expect(await t.store.pruneInboundKeys()).toBe(1);
      expect(await t.store.pruneInboundKeys()).toBe(0);
      // The live keys still deduplicate; the messages of pruned keys stay.
      const again = await t.store.createMessage(input([endpoint.id], {}, dedupe("k-4")));
      expect(again.message.id).toBe(created[3]!.message.id);
      expect(await t.store.getMessage(created[0]!.message.id)).toBeDefined();
      expect(await t.store.pruneInboundKeys({ now: START + 10_000 })).toBe(2);
      await expectCode(t.store.pruneInboundKeys({ limit: 0 }), "query.invalid");
      await expectCode(t.store.pruneInboundKeys({ now: "soon" as never }), "query.invalid");
    });

    it("ping resolves while the store is up", async () => {
      await expect(t.store.ping()).resolves.toBeUndefined();
    });
  });
}
