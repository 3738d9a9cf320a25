// PostgreSQL's endpoint versions (migration 013) and the dispatcher's routing cache on them:
// the triggers move a tenant's version on the writes that change routing — from any connection,
// with any search_path, TRUNCATE included — and not on a failure run; a dispatcher keeps its
// compiled endpoints across messages yet routes to an endpoint another "process" (a second pool
// on the schema) created, and stops routing to one it deleted or disabled, from the next message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");
const target = "http://127.0.0.1:9/hook";

// Skips only when PostgreSQL is unreachable; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("PostgreSQL endpoint versions and cached routing", () => {
  let schema: TestSchema;
  let other: PgPool;

  beforeAll(async () => {
    schema = await createTestSchema("endpoint_routes");
    other = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 2 });
  });

  afterAll(async (suite) => {
    await other.end();
    await schema.dropIfPassed(suite);
  });

  it("moves on the writes that change routing, per tenant, and not on failure runs", async () => {
    const store = createPostgresDeliveryStore(schema.pool);
    const version = store.endpointsVersion!;
    const seen: number[] = [];
    const step = async (write: () => unknown) => {
      const before = await version("default");
      await write();
      seen.push((await version("default")) - before);
    };
    await step(() => store.createEndpoint({ id: "a", target, eventTypes: ["x.*"] }));
    await step(() => store.updateEndpoint("a", { eventTypes: ["x.y"] }));
    await step(() => store.updateEndpoint("a", { filter: { payload: { n: 1 } } }));
    await step(() => store.updateEndpoint("a", { retry: { schedule_s: [1] } }));
    await step(() => store.setEndpointEnabled("a", false, "test"));
    await step(() => store.setEndpointEnabled("a", true));
    await step(() => store.updateEndpoint("a", { description: "d" }));
    await step(() => schema.pool.query("UPDATE endpoints SET consecutive_failures = 3"));
    await step(() => store.createEndpoint({ id: "b", target, eventTypes: ["x.*"], tenant: "t2" }));
    // A writer whose search_path does not name the schema still moves it.
    await step(() =>
      schema.pool.query(
        `BEGIN; SET LOCAL search_path TO public; UPDATE ${schema.schema}.endpoints SET enabled = false WHERE id = 'a'; COMMIT`,
      ),
    );
    await step(() => store.deleteEndpoint("a"));
    expect(seen).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
    const t2 = await version("t2");
    await schema.pool.query("TRUNCATE endpoints CASCADE");
    expect(await version("t2")).toBe(t2 + 1);
  });

  it("routes to what another connection created, deleted or disabled, from the next message", async () => {
    await schema.pool.query("TRUNCATE attempts, deliveries, messages, endpoints CASCADE");
    const here = createPostgresDeliveryStore(schema.pool);
    const there = createPostgresDeliveryStore(other);
    const dispatcher = createDispatcher({ store: here });
    const send = async () => (await dispatcher.dispatch({ type: "x.y", payload: {} })).deliveries;
    await there.createEndpoint({ id: "a", target, eventTypes: ["x.*"] });
    expect(await send()).toBe(1);
    await there.createEndpoint({ id: "b", target, eventTypes: ["x.y"] });
    expect(await send()).toBe(2);
    await there.setEndpointEnabled("a", false, "test");
    expect(await send()).toBe(1);
    await there.deleteEndpoint("b");
    expect(await send()).toBe(0);
  });
});
