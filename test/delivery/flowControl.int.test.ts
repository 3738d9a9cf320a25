// Flow control (rate limit, ordered FIFO under 8 workers) on a real PostgreSQL server, each
// worker with a pool of its own, as separate processes would have.
import { afterAll, beforeAll, describe } from "vitest";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testFlowControl } from "./flowControlSuite.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres flow control", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("flow_control");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => schema.dropIfPassed(suite));

  testFlowControl("postgres", async () => {
    await schema.pool.query(
      "TRUNCATE attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
    );
    const pools: PgPool[] = [];
    return {
      open() {
        const pool = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 2 });
        pools.push(pool);
        return createPostgresDeliveryStore(pool);
      },
      async close() {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});
