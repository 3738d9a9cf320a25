// The EventStore + CheckpointStore contract: memory, SQLite and PostgreSQL run this suite
// unchanged. Tests use their own streams and read from the log's current end, so a backend
// shared by the whole file (one PostgreSQL schema) never lets one test see another's events.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  CheckpointStore,
  EventStore,
  EventStoreOptions,
  EventToAppend,
} from "../../packages/core/src/store/ports.js";
import type { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { testEventStoreConcurrency } from "./eventStoreConcurrency.js";
import { testEventStoreIdempotency } from "./eventStoreIdempotency.js";
import { testEventStoreReads } from "./eventStoreReads.js";

export type Store = EventStore & CheckpointStore;
export type StoreFactory = (options?: EventStoreOptions) => Store | Promise<Store>;

export function event(overrides: Partial<EventToAppend> = {}): EventToAppend {
  return {
    id: randomUUID(),
    type: "order.placed.v1",
    source: "shop",
    occurredAt: "2024-05-01T12:00:00.000+02:00",
    payload: { total: 42, items: [{ sku: "a-1", qty: 2 }] },
    metadata: { tenant: "acme" },
    ...overrides,
  };
}

export function uniqueStream(type = "order"): string {
  return `${type}/${randomUUID()}`;
}

/** The error a promise rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<HeraldError> {
  try {
    await promise;
  } catch (error) {
    return error as HeraldError;
  }
  throw new Error("expected the call to reject");
}

/** What a backend can do beyond the common core; each defaults to true. */
export interface EventStoreCapabilities {
  /**
   * A global commit order of all events (readAll). Without it (DynamoDB), readAll must reject
   * with `store.unsupported`, and the commit-order and paging checks run on readOutbox.
   */
  readAll?: boolean;
}

export function testEventStore(
  name: string,
  factory: StoreFactory,
  capabilities: EventStoreCapabilities = {},
): void {
  const readAll = capabilities.readAll ?? true;
  describe(`EventStore contract: ${name}`, () => {
    let store: Store;
    let stream: string;

    beforeEach(async () => {
      store = await factory();
      stream = uniqueStream();
    });

    afterEach(async () => {
      await store.close();
    });

    describe("append and load", () => {
      it("numbers a new stream's events 1..N and loads them with the aggregate filled in", async () => {
        const first = event({ correlationId: "flow-1", causationId: "cmd-1" });
        const second = event({ type: "order.paid.v1", payload: { amount: 42 } });
        const result = await store.append(stream, [first, second]);
        expect(result).toMatchObject({ stream, fromVersion: 1, toVersion: 2, idempotent: false });
        const [type, id] = stream.split("/") as [string, string];
        const loaded = await store.load(stream);
        expect(loaded.map((e) => e.version)).toEqual([1, 2]);
        expect(loaded[0]!.envelope).toEqual({
          ...first,
          aggregate: { type, id, version: 1 },
        });
        expect(loaded[1]!.envelope).toMatchObject({
          id: second.id,
          type: "order.paid.v1",
          aggregate: { type, id, version: 2 },
          payload: { amount: 42 },
        });
        expect(loaded).toEqual(result.events);
        for (const stored of loaded) {
          expect(stored.stream).toBe(stream);
          expect(typeof stored.checkpoint).toBe("string");
          expect(Number.isNaN(Date.parse(stored.committedAt))).toBe(false);
        }
      });

      it("keeps every field of a single-event append, the common case", async () => {
        // PostgreSQL writes one event with expectedVersion in one statement of its own.
        const only = event({
          correlationId: "flow-9",
          causationId: "cmd-9",
          metadata: { tenant: "acme", traceparent: "00-abc-def-01" },
          payload: { nested: { list: [1, "two", null], ok: true } },
        });
        const result = await store.append(stream, [only], { expectedVersion: 0 });
        expect(result).toMatchObject({ fromVersion: 1, toVersion: 1, idempotent: false });
        const [type, id] = stream.split("/") as [string, string];
        const [loaded] = await store.load(stream);
        expect(loaded?.envelope).toEqual({ ...only, aggregate: { type, id, version: 1 } });
        const next = event({ causationId: only.id });
        await store.append(stream, [next], { expectedVersion: 1 });
        expect((await store.load(stream)).map((e) => e.envelope.causationId)).toEqual([
          "cmd-9",
          only.id,
        ]);
      });

      it("fills id, occurredAt and metadata like createEnvelope, and lower-cases ids", async () => {
        const upper = randomUUID().toUpperCase();
        const result = await store.append(stream, [
          { type: "order.placed.v1", source: "shop", payload: {} },
          { id: upper, type: "order.placed.v1", source: "shop", payload: {} },
        ]);
        const [generated, given] = result.events.map((e) => e.envelope);
        expect(generated!.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number.isNaN(Date.parse(generated!.occurredAt))).toBe(false);
        expect(generated!.metadata).toEqual({});
        expect(given!.id).toBe(upper.toLowerCase());
        expect((await store.load(stream)).map((e) => e.envelope)).toEqual([generated, given]);
      });

      it("continues a stream at its head", async () => {
        await store.append(stream, [event(), event()]);
        const result = await store.append(stream, [event()]);
        expect(result).toMatchObject({ fromVersion: 3, toVersion: 3 });
        expect(await store.streamVersion(stream)).toBe(3);
      });

      it("reports 0 as the version of a stream that does not exist, and loads nothing", async () => {
        expect(await store.streamVersion(stream)).toBe(0);
        expect(await store.load(stream)).toEqual([]);
      });

      it("loads from a version, with a limit", async () => {
        await store.append(stream, [event(), event(), event(), event(), event()]);
        expect((await store.load(stream, { fromVersion: 3 })).map((e) => e.version)).toEqual([
          3, 4, 5,
        ]);
        const page = await store.load(stream, { fromVersion: 2, limit: 2 });
        expect(page.map((e) => e.version)).toEqual([2, 3]);
        expect(await store.load(stream, { fromVersion: 6 })).toEqual([]);
        await expect(store.load(stream, { fromVersion: 0 })).rejects.toMatchObject({
          code: "store.invalid_argument",
        });
        await expect(store.load(stream, { limit: 0 })).rejects.toMatchObject({
          code: "store.invalid_argument",
        });
      });

      it("keeps streams apart", async () => {
        const other = uniqueStream("invoice");
        await store.append(stream, [event()]);
        await store.append(other, [event(), event()]);
        expect(await store.streamVersion(stream)).toBe(1);
        expect(await store.streamVersion(other)).toBe(2);
        expect((await store.load(other)).every((e) => e.stream === other)).toBe(true);
      });

      it("stores copies: changing the appended or loaded objects changes nothing stored", async () => {
        const input = event({ payload: { list: [1, 2] } });
        const result = await store.append(stream, [input]);
        (input.payload.list as number[]).push(3);
        (result.events[0]!.envelope.payload.list as number[]).push(4);
        const [loaded] = await store.load(stream);
        expect(loaded!.envelope.payload).toEqual({ list: [1, 2] });
        (loaded!.envelope.payload.list as number[]).push(5);
        expect((await store.load(stream))[0]!.envelope.payload).toEqual({ list: [1, 2] });
      });
    });

    describe("expectedVersion", () => {
      it("0 creates a stream that does not exist", async () => {
        const result = await store.append(stream, [event()], { expectedVersion: 0 });
        expect(result.toVersion).toBe(1);
      });

      it("0 refuses a stream that exists, reporting its actual head", async () => {
        await store.append(stream, [event(), event()]);
        const error = await rejection(store.append(stream, [event()], { expectedVersion: 0 }));
        expect(error.code).toBe("stream.version_conflict");
        expect(error.details).toEqual({ stream, expected: 0, actual: 2 });
        expect(await store.streamVersion(stream)).toBe(2);
      });

      it("N appends when the head is N and refuses otherwise, with expected and actual", async () => {
        await store.append(stream, [event(), event()], { expectedVersion: 0 });
        await store.append(stream, [event()], { expectedVersion: 2 });
        for (const expected of [1, 2, 4]) {
          const error = await rejection(
            store.append(stream, [event()], { expectedVersion: expected }),
          );
          expect(error.code).toBe("stream.version_conflict");
          expect(error.details).toEqual({ stream, expected, actual: 3 });
        }
        expect(await store.streamVersion(stream)).toBe(3);
      });

      it("N on a stream that does not exist reports actual 0, never -1", async () => {
        const error = await rejection(store.append(stream, [event()], { expectedVersion: 3 }));
        expect(error.details).toEqual({ stream, expected: 3, actual: 0 });
        expect(await store.streamVersion(stream)).toBe(0);
      });

      it('"any" (the default) appends whatever the head', async () => {
        await store.append(stream, [event()], { expectedVersion: "any" });
        await store.append(stream, [event()]);
        expect(await store.streamVersion(stream)).toBe(2);
      });

      it("publish checks it too", async () => {
        await store.publish(stream, 0, [event()]);
        const error = await rejection(store.publish(stream, 0, [event()]));
        expect(error.details).toEqual({ stream, expected: 0, actual: 1 });
      });

      it("refuses values that are not a version", async () => {
        for (const expectedVersion of [-1, 1.5, Number.NaN, "2"]) {
          const error = await rejection(
            store.append(stream, [event()], { expectedVersion: expectedVersion as number }),
          );
          expect(error.code).toBe("stream.invalid_expected_version");
        }
        expect(await store.streamVersion(stream)).toBe(0);
      });

      it("disableConcurrencyCheck appends after the current head whatever was expected", async () => {
        const unchecked = await factory({ disableConcurrencyCheck: true });
        try {
          await unchecked.append(stream, [event()], { expectedVersion: 0 });
          const result = await unchecked.append(stream, [event()], { expectedVersion: 0 });
          expect(result).toMatchObject({ fromVersion: 2, toVersion: 2 });
          await unchecked.publish(stream, 7, [event()]);
          expect((await unchecked.load(stream)).map((e) => e.version)).toEqual([1, 2, 3]);
        } finally {
          await unchecked.close();
        }
      });
    });

    describe("validation", () => {
      it("refuses stream names that are not type/id", async () => {
        for (const bad of ["order", "/123", "order/", "1order/1", "or der/1", "a/b\n", 42]) {
          const name = bad as string;
          expect((await rejection(store.append(name, [event()]))).code).toBe("stream.invalid");
          expect((await rejection(store.load(name))).code).toBe("stream.invalid");
          expect((await rejection(store.streamVersion(name))).code).toBe("stream.invalid");
        }
        expect((await store.append(`order/a/b-${randomUUID()}`, [event()])).toVersion).toBe(1);
      });

      it("validates each event as an envelope and writes nothing of a bad batch", async () => {
        const cases: [Partial<EventToAppend>, string][] = [
          [{ type: "Order Placed" }, "type"],
          [{ source: "" }, "source"],
          [{ id: "not-a-uuid" }, "id"],
          [{ occurredAt: "yesterday" }, "occurredAt"],
          [{ payload: { at: new Date() } as never }, "payload.at"],
          [{ metadata: [] as never }, "metadata"],
        ];
        for (const [overrides, path] of cases) {
          const error = await rejection(store.append(stream, [event(), event(overrides)]));
          expect(error.code).toBe("envelope.invalid");
          expect(error.details).toMatchObject({ path, index: 1 });
        }
        expect(await store.streamVersion(stream)).toBe(0);
      });

      it("refuses an empty batch", async () => {
        expect((await rejection(store.append(stream, []))).code).toBe("stream.empty_append");
      });
    });

    describe("checkpoints and closing", () => {
      it("gets undefined for an unknown name, then what was saved last", async () => {
        const name = `projection-${randomUUID()}`;
        expect(await store.getCheckpoint(name)).toBeUndefined();
        await store.saveCheckpoint(name, "12");
        expect(await store.getCheckpoint(name)).toBe("12");
        await store.saveCheckpoint(name, "17");
        expect(await store.getCheckpoint(name)).toBe("17");
        expect(await store.getCheckpoint(`${name}-other`)).toBeUndefined();
        await expect(store.saveCheckpoint("", "1")).rejects.toMatchObject({
          code: "store.invalid_argument",
        });
      });

      it("refuses every call once closed", async () => {
        const closing = await factory();
        await closing.close();
        await expect(closing.append(stream, [event()])).rejects.toMatchObject({
          code: "store.unavailable",
        });
        if (readAll) {
          await expect(closing.readAll()).rejects.toMatchObject({ code: "store.unavailable" });
        }
        await expect(closing.readOutbox()).rejects.toMatchObject({ code: "store.unavailable" });
        await expect(closing.load(stream)).rejects.toMatchObject({ code: "store.unavailable" });
      });
    });

    testEventStoreIdempotency(() => store);
    testEventStoreReads(() => store, readAll);
    testEventStoreConcurrency(() => store);
  });
}
