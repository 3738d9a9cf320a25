// The StreamStore half of every DeliveryStore: stream tokens (kept by hash, revocable) and the
// stream of stored messages in commit order at cursors that only grow. Run unchanged on memory,
// SQLite and PostgreSQL.
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../../packages/core/src/core/ids.js";
import { compareStreamCursors } from "../../packages/core/src/model/streamRecords.js";
import type { DeliveryStore, StreamItem } from "../../packages/core/src/store/deliveryPorts.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

export const START = Date.UTC(2025, 0, 1);

export interface StreamStoreHarness {
  store: DeliveryStore;
  close(): Promise<void> | void;
}

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

export function streamStoreSuite(
  name: string,
  open: (clock: ManualClock) => Promise<StreamStoreHarness> | StreamStoreHarness,
): void {
  describe(`${name} StreamStore`, () => {
    let clock: ManualClock;
    let h: StreamStoreHarness;
    let store: DeliveryStore;

    beforeEach(async () => {
      clock = new ManualClock(START);
      h = await open(clock);
      store = h.store;
    });
    afterEach(async () => h.close());

    const token = (overrides: Record<string, unknown> = {}) => ({
      id: newId("stk", { clock }),
      tenant: "acme",
      eventTypes: ["order.*"],
      tokenHash: hash(`token-${Math.random()}`),
      expiresAt: START + 900_000,
      ...overrides,
    });
    const message = (type: string, tenant = "acme", n = 0) =>
      store.createMessage({ message: { type, tenant, payload: { n } }, deliveries: [] });

    it("creates a token and reads it back by id and by hash; every field round-trips", async () => {
      const input = token();
      const created = await store.createStreamToken(input);
      expect(created).toEqual({
        id: input.id,
        tenant: "acme",
        eventTypes: ["order.*"],
        tokenHash: input.tokenHash,
        createdAt: new Date(START).toISOString(),
        expiresAt: new Date(START + 900_000).toISOString(),
        revokedAt: null,
      });
      expect(await store.getStreamToken(input.id)).toEqual(created);
      expect(await store.findStreamToken(input.tokenHash)).toEqual(created);
      expect(await store.findStreamToken(hash("another"))).toBeUndefined();
      expect(await store.getStreamToken("stk_01JAAAAAAAAAAAAAAAAAAAAAAA")).toBeUndefined();
    });

    it("refuses bad input with stream_token.invalid and stores nothing", async () => {
      for (const bad of [
        token({ eventTypes: [] }),
        token({ eventTypes: ["order..x"] }),
        token({ tokenHash: "not-a-hash" }),
        token({ expiresAt: START - 1 }),
        token({ id: "nope" }),
      ]) {
        await expect(store.createStreamToken(bad)).rejects.toMatchObject({
          code: "stream_token.invalid",
        });
      }
      expect(await store.listStreamTokens()).toEqual([]);
    });

    it("lists oldest first, by tenant when asked; revoking keeps the first time", async () => {
      const a = await store.createStreamToken(token());
      clock.advance(1000);
      const b = await store.createStreamToken(token({ tenant: "other" }));
      expect((await store.listStreamTokens()).map((t) => t.id)).toEqual([a.id, b.id]);
      expect((await store.listStreamTokens({ tenant: "other" })).map((t) => t.id)).toEqual([b.id]);
      clock.advance(1000);
      const revoked = await store.revokeStreamToken(a.id);
      expect(revoked?.revokedAt).toBe(new Date(START + 2000).toISOString());
      clock.advance(1000);
      expect((await store.revokeStreamToken(a.id))?.revokedAt).toBe(revoked?.revokedAt);
      expect((await store.getStreamToken(a.id))?.revokedAt).toBe(revoked?.revokedAt);
      expect(await store.revokeStreamToken("stk_01JAAAAAAAAAAAAAAAAAAAAAAA")).toBeUndefined();
    });

    it("prunes tokens a day after they expired, revoked or not, up to the limit", async () => {
      const short = await store.createStreamToken(token({ expiresAt: START + 1000 }));
      const revoked = await store.createStreamToken(token({ expiresAt: START + 2000 }));
      await store.revokeStreamToken(revoked.id);
      const long = await store.createStreamToken(token({ expiresAt: START + 86_400_000 }));
      clock.advance(86_400_000 + 1000);
      expect(await store.pruneStreamTokens()).toBe(0);
      clock.advance(1001);
      expect(await store.pruneStreamTokens({ limit: 1 })).toBe(1);
      expect(await store.pruneStreamTokens()).toBe(1);
      expect((await store.listStreamTokens()).map((t) => t.id)).toEqual([long.id]);
      expect(await store.getStreamToken(short.id)).toBeUndefined();
    });

    it("streams messages in commit order at growing cursors, by tenant and up to a bound", async () => {
      const start = await store.latestStreamCursor();
      expect(await store.readStream({ after: start, limit: 100 })).toEqual([]);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const created = await message(
          i % 2 === 0 ? "order.created" : "user.created",
          i % 3 === 0 ? "other" : "acme",
          i,
        );
        ids.push(created.message.id);
      }
      const all = await store.readStream({ after: start, limit: 100 });
      expect(all.map((item) => item.message.id)).toEqual(ids);
      expect(all[2]!.message).toMatchObject({
        tenant: "acme",
        type: "order.created",
        payload: { n: 2 },
      });
      for (let i = 1; i < all.length; i++) {
        expect(compareStreamCursors(all[i - 1]!.cursor, all[i]!.cursor)).toBeLessThan(0);
      }
      expect(await store.latestStreamCursor()).toBe(all[5]!.cursor);
      const acme = await store.readStream({ after: start, tenant: "acme", limit: 100 });
      expect(acme.map((item) => item.message.payload)).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 4 },
        { n: 5 },
      ]);
      const page: StreamItem[] = await store.readStream({ after: all[1]!.cursor, limit: 2 });
      expect(page.map((item) => item.cursor)).toEqual([all[2]!.cursor, all[3]!.cursor]);
      const bounded = await store.readStream({
        after: all[0]!.cursor,
        until: all[2]!.cursor,
        limit: 100,
      });
      expect(bounded.map((item) => item.cursor)).toEqual([all[1]!.cursor, all[2]!.cursor]);
      expect(await store.readStream({ after: all[5]!.cursor, limit: 100 })).toEqual([]);
      // A duplicate (same idempotency key) is no new message: the stream does not repeat it.
      const keyed = {
        message: { type: "order.created", tenant: "acme", payload: {}, idempotencyKey: "k" },
        deliveries: [],
      };
      await store.createMessage(keyed);
      await store.createMessage(keyed);
      expect(await store.readStream({ after: all[5]!.cursor, limit: 100 })).toHaveLength(1);
    });

    it("refuses a cursor it never sent with stream.cursor_invalid", async () => {
      for (const after of ["", "-1", "abc", "1.2.3", "01"]) {
        await expect(store.readStream({ after, limit: 10 })).rejects.toMatchObject({
          code: "stream.cursor_invalid",
        });
      }
    });
  });
}
