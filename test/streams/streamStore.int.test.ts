// The StreamStore suite on PostgreSQL (a schema of its own), and the rule only PostgreSQL needs:
// a transaction that took its sequence number earlier but commits later is not passed over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { START, streamStoreSuite } from "./streamStoreSuite.js";

const available = await serviceAvailable("postgres");

// Skipped only when postgres is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("postgres streams", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("streams");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => schema.dropIfPassed(suite));

  streamStoreSuite("postgres", async (clock) => {
    await schema.pool.query("TRUNCATE stream_tokens, deliveries, messages CASCADE");
    return { store: createPostgresDeliveryStore(schema.pool, { clock }), close() {} };
  });

  it("holds back messages behind a transaction still open, then streams both in commit-safe order", async () => {
    const store = createPostgresDeliveryStore(schema.pool, { clock: new ManualClock(START) });
    const start = await store.latestStreamCursor();
    const early = await schema.pool.connect();
    try {
      await early.query("BEGIN");
      await early.query(
        "INSERT INTO messages (id, tenant, type, payload, created_at) VALUES ('msg_early', 'acme', 'order.created', '{}', now())",
      );
      // A later transaction takes a later number and commits first.
      const late = await store.createMessage({
        message: { type: "order.created", tenant: "acme", payload: {} },
        deliveries: [],
      });
      expect(await store.readStream({ after: start, limit: 10 })).toEqual([]);
      expect(await store.latestStreamCursor()).toBe(start);
      await early.query("COMMIT");
      const items = await store.readStream({ after: start, limit: 10 });
      expect(items.map((item) => item.message.id)).toEqual(["msg_early", late.message.id]);
    } finally {
      early.release();
    }
  });
});
