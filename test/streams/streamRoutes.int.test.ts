// The live streams' HTTP suite on PostgreSQL, in a schema of its own (a second pool writes as
// another process would): commit order across connections is what the stream must keep.
import { describe } from "vitest";
import { createPgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { streamRoutesSuite } from "./streamRoutesSuite.js";

const available = await serviceAvailable("postgres");

// Skipped only when postgres is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("PostgreSQL", () => {
  streamRoutesSuite("PostgreSQL", async (clock) => {
    const schema = await createTestSchema("stream_routes");
    const other = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 4 });
    return {
      store: createPostgresDeliveryStore(schema.pool, { clock }),
      writer: createPostgresDeliveryStore(other, { clock }),
      tokenRows: async () => (await schema.pool.query("SELECT * FROM stream_tokens")).rows,
      async close() {
        await other.end();
        await schema.drop();
      },
    };
  });
});
