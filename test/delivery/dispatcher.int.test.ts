// The dispatcher on a real PostgreSQL server (its own schema), including concurrent dispatches
// with one idempotency key racing through the pool.
import { afterAll, beforeAll, describe } from "vitest";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testDispatcher } from "./dispatcherSuite.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres dispatcher", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("dispatcher");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => schema.dropIfPassed(suite));

  testDispatcher("postgres", async (clock) => {
    // One schema per file: each test starts from empty tables.
    await schema.pool.query(
      "TRUNCATE attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
    );
    return { store: createPostgresDeliveryStore(schema.pool, { clock }), async close() {} };
  });
});
