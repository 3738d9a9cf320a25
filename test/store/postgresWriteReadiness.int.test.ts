// Readiness for writes on a real PostgreSQL (the write probe and withWriteReadiness), with faults
// that stay on this file's own connections and schema: a session in read-only transaction mode
// (as on a standby), a lock held by another session, and a statement timeout. The shared server's
// configuration is never touched.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import {
  WRITE_READINESS_DEFAULTS,
  withWriteReadiness,
} from "../../packages/server/src/server/writeReadiness.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { input } from "../contracts/deliveryStore/batches.js";
import { waitUntil } from "../helpers/e2eHttp.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");
const { retryMs } = WRITE_READINESS_DEFAULTS;

describe.skipIf(!available)("postgres write readiness", () => {
  let schema: TestSchema;
  const pools: PgPool[] = [];
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    schema = await createTestSchema("write_readiness");
  });

  afterAll(async (suite) => {
    for (const client of clients) await client.end().catch(() => {});
    for (const pool of pools) await pool.end().catch(() => {});
    await schema.dropIfPassed(suite);
  });

  /** A pool of this file's own, its connections named so pg_stat_activity can tell them apart. */
  function pool(name: string, max = 4): PgPool {
    const url = new URL(schema.url);
    url.searchParams.set("application_name", `${schema.schema}_${name}`);
    const created = createPgPool({ connectionString: url.toString(), schema: schema.schema, max });
    pools.push(created);
    return created;
  }

  /** Another session on the schema, as an operator's psql would be. */
  async function session(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    await client.query(`SET search_path = ${schema.schema}`);
    clients.push(client);
    return client;
  }

  const isReady = (ready: () => Promise<void>) =>
    ready().then(
      () => true,
      () => false,
    );

  it("probeWrite commits the probe row, written from the store's clock", async () => {
    const store = createPostgresDeliveryStore(schema.pool, {
      clock: { now: () => Date.UTC(2001, 1, 3) },
    });
    await store.probeWrite();
    await store.probeWrite();
    const { rows } = await schema.pool.query(
      "SELECT id, probed_at = '2001-02-03T00:00:00Z'::timestamptz AS exact FROM write_probe",
    );
    expect(rows).toEqual([{ id: 1, exact: true }]);
  });

  it("is not ready while the connections are read-only (a standby), and ready again after", async () => {
    const single = pool("readonly", 1);
    const clock = new ManualClock(0);
    const { store } = withWriteReadiness(createPostgresDeliveryStore(single), { clock });
    const connection = await single.connect();
    await connection.query("SET default_transaction_read_only = on");
    connection.release();
    // SQLSTATE 25006: writes refused for now, store.unavailable (src/store/postgres/unavailable.ts).
    await expect(store.ready!()).rejects.toMatchObject({
      code: "store.unavailable",
      message: "PostgreSQL: cannot execute INSERT in a read-only transaction",
    });
    await expect(store.createMessages([input([])])).rejects.toMatchObject({
      code: "store.unavailable",
      message: expect.stringMatching(/read-only transaction/),
    });
    expect(await store.ping().then(() => "answers")).toBe("answers");

    const again = await single.connect();
    await again.query("SET default_transaction_read_only = off");
    again.release();
    // Not before retryMs: the failure's answer stands until then.
    await expect(store.ready!()).rejects.toMatchObject({ code: "store.unavailable" });
    clock.advance(retryMs);
    await expect(store.ready!()).resolves.toBeUndefined();
  });

  it("runs one probe at a time while it waits on a lock, fails at its statement timeout, and is ready once the lock is gone", async () => {
    const probes = pool("locked");
    const clock = new ManualClock(0);
    const { store } = withWriteReadiness(
      createPostgresDeliveryStore(probes, { writeProbe: { statementTimeoutMs: 600 } }),
      { clock },
    );
    const waitingProbes = async () => {
      const { rows } = await schema.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [`${schema.schema}_locked`],
      );
      return rows[0]?.n ?? 0;
    };
    const operator = await session();
    await operator.query("BEGIN");
    await operator.query("LOCK TABLE write_probe IN ACCESS EXCLUSIVE MODE");
    try {
      const first = Array.from({ length: 10 }, () => isReady(() => store.ready!()));
      await waitUntil(
        async () => (await waitingProbes()) === 1,
        5_000,
        () => "no probe waits",
      );
      // Calls meanwhile, long after the probe began, do not start another.
      clock.advance(60_000);
      const more = Array.from({ length: 10 }, () => isReady(() => store.ready!()));
      expect(await waitingProbes()).toBe(1);
      expect(await Promise.all(first)).toEqual(Array(10).fill(false));
      expect(await Promise.all(more)).toEqual(Array(10).fill(false));
      await expect(store.ready!()).rejects.toMatchObject({
        code: "store.unavailable",
        message: "PostgreSQL: canceling statement due to statement timeout",
      });
      expect(await waitingProbes()).toBe(0);
    } finally {
      await operator.query("COMMIT");
    }
    clock.advance(retryMs);
    await expect(store.ready!()).resolves.toBeUndefined();
  });

  it("is not ready from the first write that fails as store.unavailable; a probe blind to the cause brings it back, ever more slowly", async () => {
    // Real writes wait for a lock on messages until this pool's statement timeout cancels them;
    // the probe writes another table and passes.
    const writes = pool("timeout");
    writes.on("connect", (client) => {
      client.query("SET statement_timeout = 300").catch(() => {});
    });
    const clock = new ManualClock(0);
    const { store } = withWriteReadiness(createPostgresDeliveryStore(writes), { clock });
    await expect(store.ready!()).resolves.toBeUndefined();
    const operator = await session();
    await operator.query("BEGIN");
    await operator.query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE");
    try {
      await expect(store.createMessages([input([])])).rejects.toMatchObject({
        code: "store.unavailable",
        message: "PostgreSQL: canceling statement due to statement timeout",
      });
      expect(await isReady(() => store.ready!())).toBe(false);
      clock.advance(retryMs);
      expect(await isReady(() => store.ready!())).toBe(true);
      // Relapse: the next probe only after twice as long.
      await expect(store.createMessage(input([]))).rejects.toMatchObject({
        code: "store.unavailable",
      });
      clock.advance(retryMs);
      expect(await isReady(() => store.ready!())).toBe(false);
      clock.advance(retryMs);
      expect(await isReady(() => store.ready!())).toBe(true);
    } finally {
      await operator.query("COMMIT");
    }
    const [result] = await store.createMessages([input([])]);
    expect(result?.created).toBe(true);
    expect(await isReady(() => store.ready!())).toBe(true);
  });
});
