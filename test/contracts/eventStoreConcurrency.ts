// Part of the EventStore contract: concurrent writers to one stream.
import { describe, expect, it } from "vitest";
import type { AppendResult } from "../../packages/core/src/store/ports.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";
import { event, type Store, uniqueStream } from "./eventStore.js";

const WRITERS = 20;

export function testEventStoreConcurrency(current: () => Store): void {
  describe("concurrent writers", () => {
    it(`${WRITERS} writers expecting the same version: one wins, the others learn the actual head`, async () => {
      const store = current();
      const stream = uniqueStream();
      for (let round = 0; round < 3; round++) {
        const expected = round * 2;
        const outcomes = await Promise.allSettled(
          Array.from({ length: WRITERS }, () =>
            store.append(stream, [event(), event()], { expectedVersion: expected }),
          ),
        );
        const won = outcomes.filter((o) => o.status === "fulfilled");
        const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
        expect(won).toHaveLength(1);
        expect((won[0] as PromiseFulfilledResult<AppendResult>).value).toMatchObject({
          fromVersion: expected + 1,
          toVersion: expected + 2,
        });
        expect(lost).toHaveLength(WRITERS - 1);
        for (const error of lost) {
          expect(isHeraldError(error, "stream.version_conflict")).toBe(true);
          expect(error.details).toEqual({ stream, expected, actual: expected + 2 });
        }
      }
      const loaded = await store.load(stream);
      expect(loaded.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it(`${WRITERS} concurrent copies of one batch: one write, the others get its result back`, async () => {
      const store = current();
      const stream = uniqueStream();
      const batch = [event(), event()];
      const results = await Promise.all(
        Array.from({ length: WRITERS }, () => store.append(stream, batch, { expectedVersion: 0 })),
      );
      const written = results.filter((result) => !result.idempotent);
      expect(written).toHaveLength(1);
      for (const result of results) {
        expect(result).toEqual({ ...written[0]!, idempotent: result.idempotent });
      }
      expect(await store.streamVersion(stream)).toBe(2);
    });

    it(`${WRITERS} writers retrying from the reported version: no gaps, no duplicates`, async () => {
      const store = current();
      const stream = uniqueStream();
      const perWriter = 3;
      let conflicts = 0;
      const writer = async (writerIndex: number): Promise<string[]> => {
        const ids: string[] = [];
        let expected = 0;
        while (ids.length < perWriter) {
          const next = event({ payload: { writer: writerIndex, n: ids.length } });
          try {
            const result = await store.append(stream, [next], { expectedVersion: expected });
            expect(result.fromVersion).toBe(expected + 1);
            ids.push(next.id!);
            expected = result.toVersion;
          } catch (error) {
            if (!isHeraldError(error, "stream.version_conflict")) throw error;
            const actual = error.details?.actual as number;
            // The head only grows, and the reported one is real: never the expectation again.
            expect(actual).toBeGreaterThan(expected);
            conflicts++;
            expected = actual;
          }
        }
        return ids;
      };
      const written = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)));
      const loaded = await store.load(stream);
      expect(loaded.map((e) => e.version)).toEqual(
        Array.from({ length: WRITERS * perWriter }, (_, i) => i + 1),
      );
      const loadedIds = loaded.map((e) => e.envelope.id);
      expect(new Set(loadedIds).size).toBe(loadedIds.length);
      expect(new Set(loadedIds)).toEqual(new Set(written.flat()));
      // Each writer's own events keep their order in the stream.
      for (const ids of written) {
        const positions = ids.map((id) => loadedIds.indexOf(id));
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
      }
      expect(await store.streamVersion(stream)).toBe(WRITERS * perWriter);
      expect(conflicts).toBeGreaterThanOrEqual(0);
    });
  });
}
