// PostgreSQL takes an event's position (and its transaction id) before the transaction
// commits, so commit order is not position order. These tests hold transactions open on
// their own clients to commit them out of order, and check that readAll and readOutbox
// deliver every event once, in order, and never hand out a checkpoint past an event that
// commits later. (A position-only cursor fails them: it skips the late event.)
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventStore, ReadResult, StoredEvent } from "../../packages/core/src/store/ports.js";
import { appendInTransaction } from "../../packages/postgres/src/store/postgres/appendEvents.js";
import type { PgClient } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresEventStore } from "../../packages/postgres/src/store/postgres/eventStore.js";
import { event, uniqueStream } from "../contracts/eventStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

type Read = "readAll" | "readOutbox";

const DEADLINE_MS = 10_000;

/**
 * A reader that pages on from a checkpoint, as a forwarder or projection does. Other test
 * files share the server, and any transaction of theirs delays what readAll shows (never
 * reorders it), so `until` waits a while for what a test expects.
 */
function follower(store: EventStore, read: Read, start: string | undefined) {
  let checkpoint = start;
  const seen: StoredEvent[] = [];
  async function poll(): Promise<StoredEvent[]> {
    const batch: StoredEvent[] = [];
    for (;;) {
      const page: ReadResult = await store[read]({ after: checkpoint, limit: 3 });
      if (page.events.length === 0) return batch;
      checkpoint = page.checkpoint;
      batch.push(...page.events);
      seen.push(...page.events);
    }
  }
  return {
    seen,
    /** Reads until caught up; returns what this call read. */
    poll,
    /** Polls until `count` events were seen in all, or the deadline; returns what it read. */
    async until(count: number): Promise<StoredEvent[]> {
      const deadline = Date.now() + DEADLINE_MS;
      const batch = await poll();
      while (seen.length < count && Date.now() < deadline) {
        await sleep(20);
        batch.push(...(await poll()));
      }
      return batch;
    },
  };
}

function position(stored: StoredEvent): bigint {
  return BigInt(stored.checkpoint.split(":")[1]!);
}

describe.skipIf(!available)("postgres EventStore: commit order", () => {
  let schema: TestSchema;
  let store: EventStore;

  beforeAll(async () => {
    schema = await createTestSchema("event_order", { max: 20 });
    store = createPostgresEventStore(schema.pool);
  });

  afterAll(async () => {
    await schema?.drop();
  });

  async function begin(): Promise<PgClient> {
    const client = await schema.pool.connect();
    await client.query("BEGIN");
    return client;
  }

  async function commit(client: PgClient): Promise<void> {
    await client.query("COMMIT");
    client.release();
  }

  /** A checkpoint past everything committed so far: publish a marker and read up to it. */
  async function end(read: Read): Promise<string> {
    const marker = event({ type: "test.marker.v1" });
    await store.publish(uniqueStream("marker"), 0, [marker]);
    const reader = follower(store, read, undefined);
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      await reader.poll();
      const found = reader.seen.find((e) => e.envelope.id === marker.id);
      if (found !== undefined) return found.checkpoint;
      if (Date.now() > deadline) throw new Error("the marker never became readable");
      await sleep(20);
    }
  }

  describe.each(["readAll", "readOutbox"] as const)("%s", (read) => {
    const publish = read === "readOutbox";

    it("delivers a transaction that took its position first and commits last, before the later one", async () => {
      const reader = follower(store, read, await end(read));
      const early = event();
      const late = event();

      const a = await begin();
      const taken = await appendInTransaction(a, uniqueStream(), [early], { publish });
      // B takes a later position and commits while A is still open.
      const b = publish
        ? await store.publish(uniqueStream(), 0, [late])
        : await store.append(uniqueStream(), [late]);
      expect(position(b.events[0]!)).toBeGreaterThan(position(taken.events[0]!));

      // B is committed, but handing it out now would move the checkpoint past A.
      expect(await reader.poll()).toEqual([]);
      await commit(a);
      const delivered = await reader.until(2);
      expect(delivered.map((e) => e.envelope.id)).toEqual([early.id, late.id]);
    });

    it("delivers a transaction that took its id first but its position last, and the one that commits after it", async () => {
      const reader = follower(store, read, await end(read));
      const first = event();
      const second = event();

      const a = await begin();
      await a.query("SELECT pg_current_xact_id()");
      const b = await begin();
      const fromB = await appendInTransaction(b, uniqueStream(), [second], { publish });
      const fromA = await appendInTransaction(a, uniqueStream(), [first], { publish });
      expect(position(fromA.events[0]!)).toBeGreaterThan(position(fromB.events[0]!));

      await commit(a);
      // A is older than every running transaction, so it is delivered; B, with the smaller
      // position, is still running — the checkpoint now sits past B's position.
      expect((await reader.until(1)).map((e) => e.envelope.id)).toEqual([first.id]);
      await commit(b);
      expect((await reader.until(2)).map((e) => e.envelope.id)).toEqual([second.id]);
      expect(reader.seen.map((e) => e.envelope.id)).toEqual([first.id, second.id]);
    });

    it("a reader polling during many overlapping transactions sees every event exactly once", async () => {
      const reader = follower(store, read, await end(read));
      const writers = 8;
      const perWriter = 12;
      let writing = true;
      const polling = (async () => {
        while (writing) {
          await reader.poll();
          await sleep(1);
        }
      })();
      const written = await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const ids: string[] = [];
          for (let i = 0; i < perWriter; i++) {
            const client = await begin();
            const next = event({ payload: { w, i } });
            await appendInTransaction(client, uniqueStream(), [next], { publish });
            // Hold the transaction open a varying while, so commits land out of position order.
            await sleep((w * 7 + i * 3) % 11);
            await commit(client);
            ids.push(next.id!);
          }
          return ids;
        }),
      );
      writing = false;
      await polling;
      await reader.until(writers * perWriter);
      const seenIds = reader.seen.map((e) => e.envelope.id);
      expect(new Set(seenIds).size).toBe(seenIds.length);
      expect(new Set(seenIds)).toEqual(new Set(written.flat()));
    });
  });
});
