// PostgreSQL connection pool scoped to one schema (search_path), and a transaction helper.

import type { PgTimeouts } from "@heraldjs/core/internal/store/storeDeadlines.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import pg from "pg";
import { isPgUnavailable } from "./unavailable.js";

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * TCP keepalive on every connection, first probe after this much silence (Node then probes every
 * second, 10 times): an idle pooled connection, or the workers' LISTEN connection, to a host
 * that is gone is noticed in ~20 s instead of the kernel's two hours. It cannot see a frozen
 * server whose kernel still acknowledges: the client-side query timeout covers that.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * Idle connections stay open for the pool's life (pg closes them after 10 s by default). A burst
 * after a quiet spell otherwise opens its connections anew: a new PostgreSQL backend per
 * connection, its caches empty and Herald's statements prepared again, all while the burst waits.
 * At 1,000 webhooks/s after 15 s of quiet that put ingestion's p99 answer at 140–280 ms against
 * 23–85 ms with the connections kept (docs/benchmarks.md, round ten). The pool never holds more
 * than `max`, and idle connections do not keep the process alive (allowExitOnIdle).
 */
const IDLE_TIMEOUT_MS = 0;

/**
 * A prepared statement's generic plan is made once, with the table sizes of that moment, and kept
 * until the table is analyzed. One made while `deliveries` held a few thousand rows went on
 * scanning it whole once it held tens of thousands: in the first minute of a fresh database at
 * 1,000 webhooks/s, claims of 30 deliveries took 200 ms, and deliveries backed up for seconds,
 * until autovacuum analyzed the table. So each connection drops its cached plans (DISCARD PLANS:
 * the statements stay prepared and are planned again at their next use) REPLAN_FIRST_MS after it
 * opened, then after twice the previous gap, up to REPLAN_MAX_MS: while a table grows from empty
 * its plans are made at no less than about half its size, and later this costs one statement per
 * connection a minute. Checked when a connection is taken from the pool, and sent on it ahead of
 * the taker's statement.
 */
const REPLAN_FIRST_MS = 1_000;
const REPLAN_MAX_MS = 64_000;

function replanAsTablesGrow(pool: pg.Pool): void {
  const schedule = new WeakMap<pg.PoolClient, { at: number; gapMs: number }>();
  pool.on("connect", (client) => {
    schedule.set(client, { at: performance.now() + REPLAN_FIRST_MS, gapMs: REPLAN_FIRST_MS });
  });
  pool.on("acquire", (client) => {
    const next = schedule.get(client);
    const now = performance.now();
    if (next === undefined || now < next.at) return;
    next.gapMs = Math.min(next.gapMs * 2, REPLAN_MAX_MS);
    next.at = now + next.gapMs;
    // A failure here is the connection's, and the taker's own statement reports it.
    client.query("DISCARD PLANS").catch(() => {});
  });
}

export interface PgPoolOptions {
  connectionString: string;
  /** Schema holding Herald's tables (created by the migrations); default `public`. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
  /**
   * `application_name` of every connection, shown in `pg_stat_activity`; default `herald`. One
   * named by the connection string (`?application_name=`) or by `PGAPPNAME` wins, as in libpq.
   */
  applicationName?: string;
  /**
   * How long to wait for a connection before failing; default `timeouts.connectTimeoutMs`,
   * else 10000 ms (never hang).
   */
  connectionTimeoutMs?: number;
  /**
   * Statement, idle-in-transaction and client-side query timeouts (storeDeadlines().pg, as
   * `herald serve` and `herald worker` use). Without them a query may wait as long as the server
   * takes: fine for one-off commands (migrations, bulk replays), not for a service.
   */
  timeouts?: PgTimeouts;
}

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new HeraldError(
      "config.invalid",
      `Invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lowercase letters, digits, _`,
    );
  }
  return schema;
}

/** The connection string or the environment names the application (pg then uses that name). */
function namesApplication(connectionString: string): boolean {
  return /[?&]application_name=/.test(connectionString) || process.env.PGAPPNAME !== undefined;
}

export function createPgPool(options: PgPoolOptions): PgPool {
  const schema = assertSchemaName(options.schema ?? "public");
  const { timeouts } = options;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    ...(namesApplication(options.connectionString)
      ? {}
      : { application_name: options.applicationName ?? "herald" }),
    connectionTimeoutMillis: options.connectionTimeoutMs ?? timeouts?.connectTimeoutMs ?? 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    allowExitOnIdle: true,
    ...(timeouts === undefined
      ? {}
      : {
          // Start-up parameters: the server applies them to every statement of the session.
          statement_timeout: timeouts.statementTimeoutMs,
          idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
          // pg's own timer: rejects with "Query read timeout" whatever the server does. pool.query
          // then closes the connection; withTransaction does the same (below).
          query_timeout: timeouts.queryTimeoutMs,
        }),
    // Every connection resolves unqualified table names in Herald's schema.
    options: `-c search_path=${schema}`,
  });
  // An idle client losing its connection must not crash the process; the next query fails.
  pool.on("error", () => {});
  replanAsTablesGrow(pool);
  return pool;
}

/** The pool's connection settings without its timeouts (migrations may wait and run long). */
export function untimedClientConfig(pool: PgPool): pg.ClientConfig {
  const {
    statement_timeout: _statement,
    idle_in_transaction_session_timeout: _idle,
    query_timeout: _query,
    ...config
  } = pool.options;
  return config;
}

/**
 * SQLSTATEs that mean the database is unavailable (isPgUnavailable) but were answered on a live
 * session: a read-only transaction, a lock not obtained. The connection is rolled back and reused.
 */
const ANSWERED_ON_LIVE_SESSION = new Set(["25006", "55P03"]);

/**
 * The connection cannot be trusted: closed, timed out, or its query still running — as for
 * any failure meaning the database is unavailable (isPgUnavailable, store.unavailable included)
 * but those answered on a live session.
 */
function connectionSuspect(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    isPgUnavailable(error) && !(typeof code === "string" && ANSWERED_ON_LIVE_SESSION.has(code))
  );
}

/** Runs `fn` in a transaction on one client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(
  pool: PgPool,
  fn: (client: PgClient) => Promise<T>,
  isolation: "read committed" | "repeatable read" | "serializable" = "read committed",
): Promise<T> {
  const client = await pool.connect();
  // The server may end the session between two statements (the idle-in-transaction timeout, a
  // shutdown): without a listener pg's 'error' event would crash the process; with one, the next
  // statement fails and the connection is closed below.
  client.on("error", ignore);
  const release = (error?: unknown) => {
    client.off("error", ignore);
    client.release(
      error === undefined || error instanceof Error ? error : new Error(String(error)),
    );
  };
  let result: T;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
    result = await fn(client);
    await client.query("COMMIT");
  } catch (error) {
    if (connectionSuspect(error)) {
      // After a client-side timeout the statement may still be in flight (a frozen server
      // answers it when it resumes): a ROLLBACK would queue behind it, and the next user of the
      // connection too. Closing it ends the session; the server rolls back what it holds.
      release(error);
      throw error;
    }
    try {
      await client.query("ROLLBACK");
      release();
    } catch (rollbackError) {
      release(rollbackError);
    }
    throw error;
  }
  release();
  return result;
}

function ignore(): void {}
