// The PostgreSQL DeliveryStore against a real server: the shared contract (extra handles are
// extra pools on the same schema, as other processes would be), plus what only PostgreSQL shows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { createPgPool, type PgPool } from "../../src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../src/store/postgres/deliveryStore.js";
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
      "TRUNCATE attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
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

  it.each([
    ["the claim and the oldest due delivery", "deliveries_due"],
    ["the ordered endpoints' FIFO check", "deliveries_fifo"],
    ["depth by status and lists by status", "deliveries_status"],
    ["lists by endpoint and recovery", "deliveries_endpoint"],
    ["a message's deliveries", "deliveries_message"],
  ])("has the index for %s", async (_, index) => {
    const { rows } = await schema.pool.query(
      "SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2",
      [schema.schema, index],
    );
    expect(rows).toHaveLength(1);
  });
});
