// The PostgreSQL EventStore against a real server: the shared contract in a schema of its own,
// plus appending inside the caller's transaction and the errors a caller turns into 503.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendInTransaction } from "../../packages/postgres/src/store/postgres/appendEvents.js";
import {
  createPgPool,
  withTransaction,
} from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresEventStore } from "../../packages/postgres/src/store/postgres/eventStore.js";
import { event, rejection, testEventStore, uniqueStream } from "../contracts/eventStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres EventStore", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    // Room for the 20 concurrent writers of the contract suite.
    schema = await createTestSchema("event_store", { max: 25 });
  });

  afterAll(async () => {
    await schema?.drop();
  });

  testEventStore("postgres", (options) => createPostgresEventStore(schema.pool, options));

  it("appends inside the caller's transaction: committed or rolled back with its writes", async () => {
    const store = createPostgresEventStore(schema.pool);
    const kept = uniqueStream();
    const dropped = uniqueStream();
    await withTransaction(schema.pool, (client) =>
      appendInTransaction(client, kept, [event()], { expectedVersion: 0, publish: true }),
    );
    await expect(
      withTransaction(schema.pool, async (client) => {
        await appendInTransaction(client, dropped, [event()], { expectedVersion: 0 });
        throw new Error("the caller's own write failed");
      }),
    ).rejects.toThrow("the caller's own write failed");
    expect(await store.streamVersion(kept)).toBe(1);
    expect(await store.streamVersion(dropped)).toBe(0);
  });

  it("refuses a payload jsonb cannot hold as envelope.invalid", async () => {
    const store = createPostgresEventStore(schema.pool);
    const stream = uniqueStream();
    const error = await rejection(store.append(stream, [event({ payload: { text: "a\u0000b" } })]));
    expect(error.code).toBe("envelope.invalid");
    expect(await store.streamVersion(stream)).toBe(0);
  });

  it("reports an unreachable server as store.unavailable", async () => {
    const pool = createPgPool({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
    try {
      const store = createPostgresEventStore(pool);
      expect((await rejection(store.append(uniqueStream(), [event()]))).code).toBe(
        "store.unavailable",
      );
      expect((await rejection(store.readAll())).code).toBe("store.unavailable");
    } finally {
      await pool.end();
    }
  });

  it("does not end the pool it was given", async () => {
    const store = createPostgresEventStore(schema.pool);
    await store.close();
    expect((await schema.pool.query("SELECT 1 AS one")).rows[0]).toEqual({ one: 1 });
  });
});
