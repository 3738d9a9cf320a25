// The delivery worker's contract suite on a real PostgreSQL server (a schema of its own).
import { afterAll, beforeAll, describe } from "vitest";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { testDeliveryWorker } from "./deliveryWorkerSuite.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres delivery worker", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("delivery_worker");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => schema.dropIfPassed(suite));

  testDeliveryWorker("postgres", async (clock) => {
    // One schema per file: each test starts from empty tables.
    await schema.pool.query(
      "TRUNCATE attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
    );
    return { store: createPostgresDeliveryStore(schema.pool, { clock }), async close() {} };
  });
});
