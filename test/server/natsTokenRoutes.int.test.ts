// `/v1/nats-tokens` on PostgreSQL, in a schema of its own (a second pool reads as the auth
// callout's process would).
import { describe } from "vitest";
import { createPgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { natsTokenRoutesSuite } from "./natsTokenRoutesSuite.js";

const available = await serviceAvailable("postgres");

// Skipped only when postgres is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("PostgreSQL", () => {
  natsTokenRoutesSuite("PostgreSQL", async (clock) => {
    const schema = await createTestSchema("nats_token_routes");
    const other = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 4 });
    return {
      store: createPostgresDeliveryStore(schema.pool, { clock }),
      other: createPostgresDeliveryStore(other, { clock }),
      tokenRows: async () => (await schema.pool.query("SELECT * FROM nats_tokens")).rows,
      async close() {
        await other.end();
        await schema.drop();
      },
    };
  });
});
