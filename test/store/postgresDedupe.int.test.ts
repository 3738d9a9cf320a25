// The PostgreSQL DedupeStore against a real server, in a schema of its own: the shared contract,
// the database clock and an injected one, pruning, and 50 connections racing for one key.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox } from "../../packages/core/src/bus/inbox.js";
import type { DedupeClaim } from "../../packages/core/src/store/ports.js";
import { createPgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDedupeStore } from "../../packages/postgres/src/store/postgres/dedupeStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import {
  testDedupeStore,
  testDedupeStoreClock,
  testDedupeStorePrune,
} from "../contracts/dedupeStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres DedupeStore", () => {
  let test: TestSchema;

  beforeAll(async () => {
    test = await createTestSchema("dedupe");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => test.dropIfPassed(suite));

  describe("with the database clock", () => {
    testDedupeStore("postgres", () => createPostgresDedupeStore(test.pool));
  });

  testDedupeStoreClock("postgres", (clock) => createPostgresDedupeStore(test.pool, { clock }));

  describe("with an injected clock", () => {
    it("stores expiry times as timestamptz of the clock's time", async () => {
      const clock = new ManualClock(new Date("2024-05-01T12:00:00Z"));
      const store = createPostgresDedupeStore(test.pool, { clock });
      expect((await store.claim("clock:k", 30_000)).claimed).toBe(true);
      const { rows } = await test.pool.query<{ expires_at: Date }>(
        "SELECT expires_at FROM inbox WHERE key = 'clock:k'",
      );
      expect(rows[0]?.expires_at.toISOString()).toBe("2024-05-01T12:00:30.000Z");
    });
  });

  testDedupeStorePrune("postgres", {
    create: (options) => createPostgresDedupeStore(test.pool, options),
    clear: async () => void (await test.pool.query("DELETE FROM inbox")),
    keys: async () =>
      (await test.pool.query<{ key: string }>("SELECT key FROM inbox ORDER BY key")).rows.map(
        (row) => row.key,
      ),
  });

  describe("prune", () => {
    it("prunes on the database clock by default", async () => {
      const store = createPostgresDedupeStore(test.pool);
      const key = `prune:dbclock:${randomUUID()}`;
      await test.pool.query(
        "INSERT INTO inbox (key, token, state, expires_at) VALUES ($1, 't', 'done', now() - interval '1 s')",
        [key],
      );
      expect(await store.prune()).toBeGreaterThanOrEqual(1);
      expect((await test.pool.query("SELECT 1 FROM inbox WHERE key = $1", [key])).rowCount).toBe(0);
    });
  });

  describe("concurrency on separate connections", () => {
    // A pool of its own, ended after each race, so 50 sessions exist only while racing.
    async function race(key: string): Promise<DedupeClaim[]> {
      const pool = createPgPool({ connectionString: test.url, schema: test.schema, max: 50 });
      try {
        const store = createPostgresDedupeStore(pool);
        // Open 50 connections first so the claims really run on 50 sessions at once.
        const clients = await Promise.all(Array.from({ length: 50 }, () => pool.connect()));
        for (const client of clients) client.release();
        expect(pool.totalCount).toBe(50);
        return await Promise.all(Array.from({ length: 50 }, () => store.claim(key, 60_000)));
      } finally {
        await pool.end();
      }
    }

    it("50 concurrent claims of a new key have exactly one winner", async () => {
      const claims = await race(`race:new:${randomUUID()}`);
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(claims.filter((claim) => !claim.claimed && claim.state === "processing")).toHaveLength(
        49,
      );
    });

    it("50 concurrent claims of an expired key have exactly one winner", async () => {
      const key = `race:expired:${randomUUID()}`;
      await test.pool.query(
        "INSERT INTO inbox (key, token, state, expires_at) VALUES ($1, 'old', 'processing', now() - interval '1 s')",
        [key],
      );
      const claims = await race(key);
      const winners = claims.filter((claim) => claim.claimed);
      expect(winners).toHaveLength(1);
      const { rows } = await test.pool.query<{ token: string }>(
        "SELECT token FROM inbox WHERE key = $1",
        [key],
      );
      expect(rows).toEqual([{ token: (winners[0] as { token: string }).token }]);
    });

    it("50 concurrent claims from separate pools (as separate processes) have one winner", async () => {
      const key = `race:pools:${randomUUID()}`;
      const pools = Array.from({ length: 5 }, () =>
        createPgPool({ connectionString: test.url, schema: test.schema, max: 5 }),
      );
      try {
        const claims = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            createPostgresDedupeStore(pools[i % pools.length]!).claim(key, 60_000),
          ),
        );
        expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });
  });

  describe("failures", () => {
    it("reports store.unavailable when the server cannot be reached", async () => {
      const pool = createPgPool({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
      const store = createPostgresDedupeStore(pool);
      await expect(store.claim("k", 1_000)).rejects.toMatchObject({ code: "store.unavailable" });
      await pool.end();
    });
  });

  describe("inbox over PostgreSQL", () => {
    it("handles one event once per consumer, and prunes through the facade", async () => {
      const clock = new ManualClock(new Date("2031-01-01T00:00:00Z"));
      const inbox = createInbox(createPostgresDedupeStore(test.pool, { clock }));
      const eventId = randomUUID();
      const claim = await inbox.claim("billing", eventId, 1_000);
      if (!claim.claimed) throw new Error("expected a claim");
      expect((await inbox.claim("shipping", eventId, 1_000)).claimed).toBe(true);
      expect(await inbox.complete("billing", eventId, claim.token, 1_000)).toBe(true);
      expect(await inbox.claim("billing", eventId, 1_000)).toEqual({
        claimed: false,
        state: "done",
      });
      clock.advance(1_000);
      expect(await inbox.prune()).toBeGreaterThanOrEqual(2);
    });
  });
});
