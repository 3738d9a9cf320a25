// createMessages' `endpointsVersion` on SQLite and PostgreSQL, and ingestion's use of it: a batch
// routed on cached endpoints is written only while the tenant's endpoint version is the one it
// was routed on, checked by the write itself (no read before it); otherwise nothing of it is
// written and the store answers `endpoint.version_changed`, and ingestion routes it again on the
// endpoints as they are now — also when another connection (another process) changed them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import type {
  CreateMessageInput,
  DeliveryStore,
} from "../../packages/core/src/store/deliveryPorts.js";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const target = "http://127.0.0.1:9/hook";
let n = 0;

/** A webhook-like input: a dedupe key (the one-statement path on PostgreSQL), or an idempotency key (the transaction path). */
function input(endpointIds: readonly string[], path: "dedupe" | "idempotency"): CreateMessageInput {
  n += 1;
  return {
    message: {
      type: "x.y",
      payload: { n },
      ...(path === "idempotency" ? { idempotencyKey: `idem-${n}` } : {}),
    },
    deliveries: endpointIds.map((endpointId) => ({ endpointId, maxAttempts: 3 })),
    ...(path === "dedupe"
      ? { dedupe: { source: "shop", key: `key-${n}`, expiresAt: Date.now() + 60_000 } }
      : {}),
  };
}

interface Stores {
  /** The store under test and a second connection to the same database (another process). */
  here: DeliveryStore;
  there: DeliveryStore;
  /** Messages stored, on `here`. */
  messageCount(): Promise<number>;
}

function guardSuite(setup: () => Stores, dialect: "sqlite" | "postgres"): void {
  for (const path of ["dedupe", "idempotency"] as const) {
    it(`writes a batch routed on the current version and refuses a stale one (${path} path)`, async () => {
      const { here, there, messageCount } = setup();
      const tenant = "default";
      await there.createEndpoint({ target, eventTypes: ["x.*"] });
      const version = await here.endpointsVersion!(tenant);
      const endpoint = (await here.listEndpoints({ limit: 1 })).data[0]!;
      const written = await here.createMessages([input([endpoint.id], path)], {
        endpointsVersion: { tenant, version },
      });
      expect(written.map((r) => r.created)).toEqual([true]);

      // Another connection adds an endpoint: the batch routed before it is refused whole.
      await there.createEndpoint({ target, eventTypes: ["x.*"] });
      const before = await messageCount();
      const stale = input([endpoint.id], path);
      await expect(
        here.createMessages([stale, input([endpoint.id], path)], {
          endpointsVersion: { tenant, version },
        }),
      ).rejects.toMatchObject({
        name: "HeraldError",
        code: "endpoint.version_changed",
        details: { tenant, expected: version, actual: version + 1 },
      });
      expect(await messageCount()).toBe(before);
      // Nothing of it was kept, its dedupe or idempotency key included: written again, it is new.
      const again = await here.createMessages([stale], {
        endpointsVersion: { tenant, version: version + 1 },
      });
      expect(again.map((r) => r.created)).toEqual([true]);
    });
  }

  it("takes a tenant without endpoints as version 0", async () => {
    const { here } = setup();
    const results = await here.createMessages([input([], "dedupe")], {
      endpointsVersion: { tenant: "nobody-here", version: 0 },
    });
    expect(results[0]!.created).toBe(true);
    await expect(
      here.createMessages([input([], "dedupe")], {
        endpointsVersion: { tenant: "nobody-here", version: 1 },
      }),
    ).rejects.toMatchObject({ code: "endpoint.version_changed" });
  });

  it("ingestion routes on cached endpoints and again when another connection changed them", async () => {
    const { here, there } = setup();
    const cleared = await here.listEndpoints({ limit: 100 });
    for (const endpoint of cleared.data) await there.deleteEndpoint(endpoint.id);
    let versionReads = 0;
    const counted: DeliveryStore = {
      ...here,
      endpointsVersion: (tenant) => {
        versionReads += 1;
        return here.endpointsVersion!(tenant);
      },
    };
    const committer = createIngestBatches({
      store: counted,
      defaultRetry: DEFAULT_RETRY_POLICY,
      dialect,
    });
    const submit = async () => (await committer.submit(input([], "dedupe"))).deliveries.length;
    const a = await there.createEndpoint({ target, eventTypes: ["x.*"] });
    expect(await submit()).toBe(1);
    expect(versionReads).toBe(1); // nothing cached yet
    expect(await submit()).toBe(1);
    expect(await submit()).toBe(1);
    expect(versionReads).toBe(1); // the cached router, checked by the writes
    const b = await there.createEndpoint({ target, eventTypes: ["x.y"] });
    expect(await submit()).toBe(2);
    expect(versionReads).toBe(2); // refused once, routed again
    await there.setEndpointEnabled(a.id, false, "test");
    expect(await submit()).toBe(1);
    await there.deleteEndpoint(b.id);
    expect(await submit()).toBe(0);
    expect(versionReads).toBe(4);
  });
}

describe("endpoint version guard: SQLite", () => {
  let sqlite: MigratedSqlite;
  let other: SqliteDatabase;
  let stores: Stores;

  beforeAll(() => {
    sqlite = migratedSqlite();
    other = openSqlite(sqlite.path);
    const here = createSqliteDeliveryStore(sqlite.db);
    stores = {
      here,
      there: createSqliteDeliveryStore(other),
      messageCount: async () =>
        (sqlite.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n,
    };
  });

  afterAll(() => {
    other.close();
    sqlite.cleanup();
  });

  guardSuite(() => stores, "sqlite");
});

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("endpoint version guard: PostgreSQL", () => {
  let schema: TestSchema;
  let other: PgPool;
  let stores: Stores;

  beforeAll(async () => {
    schema = await createTestSchema("endpoint_guard");
    other = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 2 });
    stores = {
      here: createPostgresDeliveryStore(schema.pool),
      there: createPostgresDeliveryStore(other),
      messageCount: async () =>
        Number((await schema.pool.query("SELECT count(*) AS n FROM messages")).rows[0].n),
    };
  });

  afterAll(async (suite) => {
    await other.end();
    await schema.dropIfPassed(suite);
  });

  guardSuite(() => stores, "postgres");
});
