// Part of the EventStore contract: retried appends and event ids that are already stored.
import { beforeEach, describe, expect, it } from "vitest";
import { event, rejection, type Store, uniqueStream } from "./eventStore.js";

export function testEventStoreIdempotency(current: () => Store): void {
  let store: Store;
  let stream: string;

  beforeEach(() => {
    store = current();
    stream = uniqueStream();
  });

  describe("idempotency", () => {
    it("re-appending a stored batch returns the original result and writes nothing", async () => {
      const batch = [event(), event()];
      await store.append(stream, [event()]);
      const original = await store.append(stream, batch, { expectedVersion: 1 });
      await store.append(stream, [event()]);
      // expectedVersion 1 no longer matches (the head is 4): a retry still succeeds.
      const retry = await store.append(stream, batch, { expectedVersion: 1 });
      expect(retry).toEqual({ ...original, idempotent: true });
      expect(await store.streamVersion(stream)).toBe(4);
      const again = await store.publish(stream, 0, batch);
      expect(again).toEqual({ ...original, idempotent: true });
    });

    it("a retry of a consecutive part of the batch is idempotent too", async () => {
      const batch = [event(), event(), event()];
      await store.append(stream, batch);
      const retry = await store.append(stream, batch.slice(1, 2));
      expect(retry).toMatchObject({ fromVersion: 2, toVersion: 2, idempotent: true });
      expect(retry.events.map((e) => e.envelope.id)).toEqual([batch[1]!.id]);
    });

    it("matches ids whatever their case", async () => {
      const stored = event();
      await store.append(stream, [stored]);
      const retry = await store.append(stream, [{ ...stored, id: stored.id!.toUpperCase() }]);
      expect(retry.idempotent).toBe(true);
    });

    it("refuses an id already stored in another stream", async () => {
      const shared = event();
      const other = uniqueStream("invoice");
      await store.append(other, [shared]);
      const error = await rejection(store.append(stream, [event(), shared]));
      expect(error.code).toBe("event.duplicate_id");
      expect(await store.streamVersion(stream)).toBe(0);
    });

    it("refuses an id twice in one batch", async () => {
      const twice = event();
      const error = await rejection(store.append(stream, [twice, { ...twice }]));
      expect(error.code).toBe("event.duplicate_id");
      expect(await store.streamVersion(stream)).toBe(0);
    });

    it("refuses a batch mixing stored and new ids, writing nothing", async () => {
      const stored = event();
      await store.append(stream, [stored]);
      const error = await rejection(store.append(stream, [stored, event()]));
      expect(error.code).toBe("stream.idempotency_conflict");
      expect(await store.streamVersion(stream)).toBe(1);
    });

    it("refuses stored ids in another order", async () => {
      const batch = [event(), event()];
      await store.append(stream, batch);
      const error = await rejection(store.append(stream, [batch[1]!, batch[0]!]));
      expect(error.code).toBe("stream.idempotency_conflict");
    });
  });
}
