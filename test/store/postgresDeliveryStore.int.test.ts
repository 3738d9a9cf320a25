// The PostgreSQL DeliveryStore against a real server: the shared contract (extra handles are
// extra pools on the same schema, as other processes would be), plus what only PostgreSQL shows.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { input } from "../contracts/deliveryStore/batches.js";
import { testDeliveryStore } from "../contracts/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres DeliveryStore", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("delivery_store");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => schema.dropIfPassed(suite));

  testDeliveryStore("postgres", async (clock) => {
    // One schema per file: each test starts from empty tables.
    await schema.pool.query(
      "TRUNCATE inbound_keys, attempts, deliveries, messages, endpoints, sources, event_types, named_secrets, nats_tokens CASCADE",
    );
    const pools: PgPool[] = [];
    return {
      store: createPostgresDeliveryStore(schema.pool, { clock }),
      async connect() {
        const pool = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 4 });
        pools.push(pool);
        return createPostgresDeliveryStore(pool, { clock });
      },
      async close() {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });

  it("stores times as timestamptz, written from the injected clock", async () => {
    const clock = new ManualClock(Date.UTC(2001, 1, 3, 4, 5, 6, 789));
    const store = createPostgresDeliveryStore(schema.pool, { clock });
    const endpoint = await store.createEndpoint({ target: "https://x.example", eventTypes: ["*"] });
    const { rows } = await schema.pool.query(
      "SELECT created_at = '2001-02-03T04:05:06.789Z'::timestamptz AS exact FROM endpoints WHERE id = $1",
      [endpoint.id],
    );
    expect(rows[0]).toEqual({ exact: true });
  });

  it("reports an unreachable database as store.unavailable", async () => {
    const pool = createPgPool({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
    const store = createPostgresDeliveryStore(pool);
    await expect(store.listEventTypes()).rejects.toMatchObject({ code: "store.unavailable" });
    await pool.end();
  });

  it("ping resolves, and rejects with store.unavailable when the database is unreachable", async () => {
    await expect(createPostgresDeliveryStore(schema.pool).ping()).resolves.toBeUndefined();
    const pool = createPgPool({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
    await expect(createPostgresDeliveryStore(pool).ping()).rejects.toMatchObject({
      code: "store.unavailable",
    });
    await pool.end();
    await expect(createPostgresDeliveryStore(pool).ping()).rejects.toMatchObject({
      code: "store.unavailable",
    });
  });

  it("200 concurrent calls with one dedupe key from 5 pools (processes) store one message", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const pools = Array.from({ length: 5 }, () =>
      createPgPool({ connectionString: schema.url, schema: schema.schema, max: 8 }),
    );
    try {
      const stores = pools.map((pool) => createPostgresDeliveryStore(pool, { clock }));
      const endpoint = await stores[0]!.createEndpoint({
        target: "https://x.example",
        eventTypes: ["*"],
      });
      const dedupe = { source: "race", key: "k-200", expiresAt: clock.now() + 60_000 };
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const store = stores[i % stores.length]!;
          const call = input([endpoint.id], { payload: i }, dedupe);
          return i % 2 === 0
            ? store.createMessage(call)
            : store.createMessages([call]).then((batch) => batch[0]!);
        }),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      const { rows } = await schema.pool.query(
        "SELECT count(*)::int AS n FROM messages m JOIN inbound_keys k ON k.message_id = m.id WHERE k.source = 'race'",
      );
      expect(rows[0]).toEqual({ n: 1 });
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("stores a batch of 256 in one transaction of a few statements, whatever its size", async () => {
    const store = createPostgresDeliveryStore(schema.pool);
    const endpoint = await store.createEndpoint({ target: "https://x.example", eventTypes: ["*"] });
    const expiresAt = Date.now() + 60_000;
    const batch = (from: number) =>
      Array.from({ length: 256 }, (_, i) =>
        input(
          [endpoint.id],
          { idempotencyKey: `size-${from + i}` },
          { source: "size", key: `size-${from + i}`, expiresAt },
        ),
      );
    await store.createMessages(batch(0)); // warm the pool
    const query = vi.spyOn(pg.Client.prototype, "query");
    try {
      // Half new, half duplicates of stored messages (which are read back as well).
      const results = await store.createMessages(batch(128));
      expect(results.filter((r) => r.created)).toHaveLength(128);
      // BEGIN, read, messages, keys, deliveries, notify, 2 reads of the duplicates, COMMIT.
      expect(query.mock.calls.length).toBeGreaterThanOrEqual(5);
      expect(query.mock.calls.length).toBeLessThanOrEqual(9);
    } finally {
      query.mockRestore();
    }
  });

  it.each([
    ["the claim and the oldest due delivery", "deliveries_due"],
    ["the ordered endpoints' FIFO check", "deliveries_fifo"],
    ["depth by status and lists by status", "deliveries_status"],
    ["lists by endpoint and recovery", "deliveries_endpoint"],
    ["a message's deliveries", "deliveries_message"],
    ["pruning expired dedupe keys", "inbound_keys_expires"],
    ["a message's dedupe keys (the cascade)", "inbound_keys_message"],
  ])("has the index for %s", async (_, index) => {
    const { rows } = await schema.pool.query(
      "SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2",
      [schema.schema, index],
    );
    expect(rows).toHaveLength(1);
  });
});
