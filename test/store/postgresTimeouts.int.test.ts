// The PostgreSQL pool's limits (createPgPool `timeouts`, from storeDeadlines): the server-side
// statement and idle-in-transaction timeouts are in force on every connection, a query the
// server leaves unanswered fails on the client's own timer, and a connection that timed out is
// closed rather than handed to the next caller with its query still running. Migrations run
// without them. (A frozen server, where only the client's timer helps, is in
// test/e2e/postgresFreeze.e2e.test.ts.)
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgTimeouts, storeDeadlines } from "../../packages/core/src/store/storeDeadlines.js";
import {
  createPgPool,
  type PgPool,
  withTransaction,
} from "../../packages/postgres/src/store/postgres/database.js";
import { pgCall } from "../../packages/postgres/src/store/postgres/deliverySql.js";
import { migratePostgres } from "../../packages/postgres/src/store/postgres/migrate.js";
import { coerceError } from "../../packages/webhooks/src/core/errors.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return coerceError(error);
  }
  throw new Error("expected a rejection");
}

describe.skipIf(!available)("postgres pool timeouts", () => {
  let schema: TestSchema;
  const pools: PgPool[] = [];
  const pool = (timeouts: PgTimeouts, max = 2) => {
    const made = createPgPool({
      connectionString: schema.url,
      schema: schema.schema,
      max,
      timeouts,
    });
    pools.push(made);
    return made;
  };

  beforeAll(async () => {
    schema = await createTestSchema("pg_timeouts");
  });
  afterAll(async (suite) => {
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await schema.dropIfPassed(suite);
  });

  it("sets the statement and idle-in-transaction timeouts, and TCP keepalive, on every connection", async () => {
    const limits = storeDeadlines(2_500).pg;
    const p = pool(limits);
    const { rows } = await p.query<{ statement: string; idle: string }>(
      "SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle",
    );
    expect(rows[0]).toEqual({ statement: "2500ms", idle: "2500ms" });
    expect(p.options).toMatchObject({
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: 3_500,
      connectionTimeoutMillis: 2_500,
    });
    // Without timeouts (one-off commands) keepalive is still on, and statements are unlimited.
    const { rows: plain } = await schema.pool.query<{ statement: string }>(
      "SELECT current_setting('statement_timeout') AS statement",
    );
    expect(plain[0]?.statement).toBe("0");
    expect(schema.pool.options.keepAlive).toBe(true);
  });

  it("cancels a statement that runs past the statement timeout: store.unavailable", async () => {
    const p = pool({ ...storeDeadlines(500).pg, queryTimeoutMs: 10_000 });
    const started = performance.now();
    const error = await failure(pgCall(() => p.query("SELECT pg_sleep(5)")));
    expect(error.code).toBe("store.unavailable");
    expect(error.message).toMatch(/statement timeout/);
    expect(performance.now() - started).toBeLessThan(3_000);
    // The connection stays usable.
    expect((await p.query("SELECT 1 AS one")).rows[0]).toEqual({ one: 1 });
  });

  it("gives up on an unanswered query on the client's timer and closes that connection", async () => {
    // One connection, so a reused one would show: the next query would queue behind the sleep.
    const p = pool(
      {
        statementTimeoutMs: 30_000,
        idleInTransactionMs: 30_000,
        queryTimeoutMs: 400,
        connectTimeoutMs: 5_000,
      },
      1,
    );
    const firstPid = (await p.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!
      .pid;
    const started = performance.now();
    const error = await failure(
      pgCall(() => withTransaction(p, (client) => client.query("SELECT pg_sleep(3)"))),
    );
    expect(error.code).toBe("store.unavailable");
    expect(error.message).toMatch(/Query read timeout/);
    expect(performance.now() - started).toBeLessThan(1_500);

    const next = performance.now();
    const secondPid = (await p.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!
      .pid;
    expect(performance.now() - next, "the next query does not wait for the sleep").toBeLessThan(
      1_000,
    );
    expect(secondPid, "a fresh connection").not.toBe(firstPid);
    // The abandoned session ends and its transaction is rolled back, not left open.
    const other = new pg.Client({ connectionString: schema.url });
    await other.connect();
    try {
      for (let i = 0; i < 50; i++) {
        const { rows } = await other.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [
          firstPid,
        ]);
        if (rows.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { rows } = await other.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [
        firstPid,
      ]);
      expect(rows, "the timed-out session is gone").toEqual([]);
    } finally {
      await other.end();
    }
  });

  it("ends a session left idle inside a transaction, and the pool recovers", async () => {
    const p = pool({ ...storeDeadlines(500).pg, queryTimeoutMs: 5_000 }, 1);
    await p.query("CREATE TABLE IF NOT EXISTS idle_probe (id int PRIMARY KEY)");
    const error = await failure(
      pgCall(() =>
        withTransaction(p, async (client) => {
          await client.query("INSERT INTO idle_probe VALUES (1)");
          // The client stalls (a frozen event loop, a partition) inside the transaction.
          await new Promise((resolve) => setTimeout(resolve, 1_200));
          await client.query("INSERT INTO idle_probe VALUES (2)");
        }),
      ),
    );
    expect(error.code).toBe("store.unavailable");
    // Nothing of the transaction stays; its row lock is released; the next caller gets a
    // working connection.
    const { rows } = await p.query("SELECT id FROM idle_probe");
    expect(rows).toEqual([]);
    await p.query("INSERT INTO idle_probe VALUES (1)");
  });

  it("migrates without the timeouts: waiting for another migrator longer than a statement may", async () => {
    const target = await createTestSchema("pg_timeouts_migrate", { migrate: false });
    const p = createPgPool({
      connectionString: target.url,
      schema: target.schema,
      max: 1,
      timeouts: storeDeadlines(500).pg,
    });
    const holder = new pg.Client({ connectionString: target.url });
    await holder.connect();
    try {
      // Another process is migrating this schema for 2 s.
      await holder.query("SELECT pg_advisory_lock(hashtext($1))", [
        `herald.migrate.${target.schema}`,
      ]);
      const release = setTimeout(() => {
        void holder.query("SELECT pg_advisory_unlock_all()");
      }, 2_000);
      const report = await migratePostgres(p, { schema: target.schema });
      clearTimeout(release);
      expect(report.applied.length).toBeGreaterThan(0);
    } finally {
      await holder.end();
      await p.end();
      await target.drop();
    }
  });
});
