// The `scale` benchmark's background rows and its retention job, in SQL for both dialects.
//
// The rows that count are the deliveries: background delivery i belongs to message
// m = i / FANOUT and goes to history endpoint j = i % FANOUT (a fan-out of 10 endpoints per
// message), so 10^7 deliveries come with 10^6 messages. Message m is `msg_00<m, 24 digits>`,
// made at T0 + m × 2.5 s (T0: 31 days before the run), so the message of delivery 10,000,000 is
// two days old; its deliveries share its creation time. The ids keep the length of Herald's
// prefixed ULIDs and sort before every real one (`01…`): older rows, lower ids, as the real
// ones. Every column not derived from i is copied from a delivery the built worker made in the
// same run (the template): tenant, type, payload (about 100 bytes), max_attempts, the attempt's
// duration, status, response headers and body. One message in 100 has one delivery retrying
// (j = 0), due again between 1 and 10 hours after the seeding starts (one failed attempt: open,
// in deliveries_due, never due during the run); one delivery in 49 of the others is
// dead-lettered (max_attempts failed attempts); the rest are delivered, and have no attempt
// rows (the attempts table holds only the failures': seeding 10^7 succeeded attempts would
// double the load, and no delivery path reads them).
//
// Retention is not part of Herald: the benchmark runs it as an operator's job would, deleting
// messages whose deliveries are all final and older than the cutoff, oldest first, in batches
// (the deliveries and attempts go with them: ON DELETE CASCADE).
import type { Database } from "better-sqlite3";
import type { DeliveryStore } from "../packages/core/src/store/deliveryPorts.js";
import type { PgPool } from "../packages/postgres/src/store/postgres/database.js";

/** Background deliveries per background message, one to each history endpoint. */
export const FANOUT = 10;
/** History endpoint j's id is this followed by j. */
const HISTORY_ENDPOINT = "ep_history_";
/** Milliseconds between two background messages' creation times. */
export const MESSAGE_STEP_MS = 2500;
/** Background rows start this long before the run. */
export const HISTORY_MS = 31 * 24 * 3600 * 1000;

/**
 * The endpoints the background deliveries go to: real endpoints, enabled, whose event types no
 * message of the run has, so only the background rows name them.
 */
export async function createHistoryEndpoints(store: DeliveryStore, target: string): Promise<void> {
  for (let j = 0; j < FANOUT; j++) {
    await store.createEndpoint({
      id: `${HISTORY_ENDPOINT}${j}`,
      target,
      eventTypes: ["history.*"],
    });
  }
}

/** The values copied from a real delivery into every background row. */
export interface Template {
  tenant: string;
  type: string;
  source: string | null;
  /** JSON text. */
  payload: string;
  maxAttempts: number;
  durationMs: number;
  statusCode: number | null;
  /** JSON text, or null. */
  responseHeaders: string | null;
  responseBody: string | null;
}

/** Background deliveries [from, to): multiples of FANOUT. */
export interface SeedRange {
  from: number;
  to: number;
  /** Epoch ms of T0. */
  t0: number;
  /** Epoch ms of the run's start: retrying rows are due after it. */
  now: number;
}

const TEMPLATE_QUERY = `SELECT m.tenant, m.type, m.source, m.payload, d.max_attempts,
  a.duration_ms, a.status_code, a.response_headers, a.response_body
FROM deliveries d JOIN messages m ON m.id = d.message_id JOIN attempts a ON a.delivery_id = d.id
WHERE d.status = 'delivered' AND a.succeeded
LIMIT 1`;

interface TemplateRow {
  tenant: string;
  type: string;
  source: string | null;
  payload: unknown;
  max_attempts: number;
  duration_ms: number;
  status_code: number | null;
  response_headers: unknown;
  response_body: string | null;
}

const jsonText = (value: unknown) =>
  value === null ? null : typeof value === "string" ? value : JSON.stringify(value);

function templateOf(row: TemplateRow | undefined): Template {
  if (row === undefined) throw new Error("no delivered message to copy the background rows from");
  return {
    tenant: row.tenant,
    type: row.type,
    source: row.source,
    payload: jsonText(row.payload)!,
    maxAttempts: row.max_attempts,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    responseHeaders: jsonText(row.response_headers),
    responseBody: row.response_body,
  };
}

// Per delivery i: its 24-digit key, its message's (m = i / FANOUT) and endpoint (j = i % FANOUT),
// its status class (1 retrying, 2 dead-lettered, 0 delivered) and creation time (its message's).
const FINAL = "('delivered', 'dead_lettered', 'cancelled')";
const OPEN = "('pending', 'delivering', 'retrying')";
const CLASS = `CASE WHEN j = 0 AND m % 100 = 0 THEN 1 WHEN i % 49 = 1 THEN 2 ELSE 0 END`;
const STATUS = "CASE c WHEN 1 THEN 'retrying' WHEN 2 THEN 'dead_lettered' ELSE 'delivered' END";

// PostgreSQL: generate_series; timestamps as timestamptz. $1 from, $2 to (deliveries),
// $3 T0 (ISO), $4 now (ISO).
const PG_AT = `$3::timestamptz + m * interval '${MESSAGE_STEP_MS} milliseconds'`;
const PG_DELIVERY_ROWS = `SELECT i, m, j, lpad(i::text, 24, '0') AS k, lpad(m::text, 24, '0') AS mk,
  ${CLASS} AS c, ${PG_AT} AS at, $4::timestamptz AS now
FROM (SELECT i, i / ${FANOUT} AS m, i % ${FANOUT} AS j
  FROM generate_series($1::bigint, $2::bigint - 1) i) s`;

// $1 first message, $2 last (exclusive), $3 T0, then tenant, type, source, payload.
const PG_MESSAGES = `INSERT INTO messages (id, tenant, type, source, payload, created_at)
SELECT 'msg_00' || lpad(m::text, 24, '0'), $4, $5, $6, $7::jsonb, ${PG_AT}
FROM generate_series($1::bigint, $2::bigint - 1) m`;

const PG_DELIVERIES = `INSERT INTO deliveries (id, message_id, endpoint_id, status, attempts,
  max_attempts, next_attempt_at, last_attempt_at, last_error, last_status_code, created_at, updated_at)
SELECT 'dlv_00' || k, 'msg_00' || mk, '${HISTORY_ENDPOINT}' || j, ${STATUS},
  CASE c WHEN 2 THEN $5 ELSE 1 END, $5,
  CASE c WHEN 1 THEN now + interval '1 hour' + (m % 32400) * interval '1 second' END,
  at + $6::float8 * interval '1 millisecond',
  CASE WHEN c > 0 THEN 'HTTP 503' END,
  CASE WHEN c > 0 THEN 503 ELSE $7 END,
  at, at + $6::float8 * interval '1 millisecond'
FROM (${PG_DELIVERY_ROWS}) s`;

const PG_ATTEMPTS = `INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms,
  succeeded, status_code, response_headers, response_body, error)
SELECT 'att_0' || n || k, 'dlv_00' || k, n, at + (n - 1) * interval '1 minute', $5, false,
  503, $6::jsonb, $7, 'HTTP 503'
FROM (${PG_DELIVERY_ROWS}) s CROSS JOIN LATERAL generate_series(1, CASE c WHEN 2 THEN $8 ELSE 1 END) n
WHERE c > 0`;

export async function pgTemplate(pool: PgPool): Promise<Template> {
  const { rows } = await pool.query<TemplateRow>(TEMPLATE_QUERY);
  return templateOf(rows[0]);
}

// The secondary indexes of the three tables that a big load drops and builds again: not those
// behind a primary key or UNIQUE, nor the small partial ones the worker's claims use meanwhile.
const PG_INDEXES = `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
WHERE i.indrelid IN ('messages'::regclass, 'deliveries'::regclass, 'attempts'::regclass)
  AND c.oid IS NULL AND i.indpred IS NULL`;

/** From this many new deliveries on, the secondary indexes are dropped and built again after. */
const REBUILD_FROM = 1_000_000;
/** Deliveries per INSERT … SELECT (and transaction). */
const PG_CHUNK = 1_000_000;

/**
 * Background deliveries [from, to) on PostgreSQL, with their messages and their failures'
 * attempts: each table in one INSERT … SELECT per million deliveries, on one connection with
 * the foreign-key triggers off (session_replication_role = replica: the rows are consistent by
 * construction), synchronous_commit off and more maintenance_work_mem for the index builds (this
 * session only); a big load drops the secondary indexes first and builds them again after
 * (≈ 17 % faster than keeping them at 10^7, and smaller); then VACUUM (ANALYZE), as a table
 * grown over weeks would have had: otherwise autovacuum's first pass over the new rows would run
 * during the timed runs.
 */
export async function seedPg(pool: PgPool, t: Template, range: SeedRange): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SET session_replication_role = replica");
    await client.query("SET synchronous_commit = off");
    await client.query("SET maintenance_work_mem = '1GB'");
    const { rows: indexes } = await client.query<{ name: string; def: string }>(PG_INDEXES);
    const rebuild = range.to - range.from >= REBUILD_FROM;
    if (rebuild) await client.query(`DROP INDEX ${indexes.map((i) => i.name).join(", ")}`);
    const t0 = new Date(range.t0).toISOString();
    const rows = (from: number, to: number) => [from, to, t0, new Date(range.now).toISOString()];
    for (let from = range.from; from < range.to; from += PG_CHUNK) {
      const to = Math.min(range.to, from + PG_CHUNK);
      await client.query("BEGIN");
      await client.query(PG_MESSAGES, [
        from / FANOUT,
        to / FANOUT,
        t0,
        t.tenant,
        t.type,
        t.source,
        t.payload,
      ]);
      await client.query(PG_DELIVERIES, [
        ...rows(from, to),
        t.maxAttempts,
        t.durationMs,
        t.statusCode,
      ]);
      await client.query(PG_ATTEMPTS, [
        ...rows(from, to),
        t.durationMs,
        t.responseHeaders,
        t.responseBody,
        t.maxAttempts,
      ]);
      await client.query("COMMIT");
    }
    if (rebuild) for (const index of indexes) await client.query(index.def);
    await client.query("RESET session_replication_role");
    await client.query("VACUUM (ANALYZE) messages, deliveries, attempts");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The three tables' bytes on disk (heap, indexes, TOAST) and the deliveries stored. */
export async function pgDisk(pool: PgPool): Promise<{ bytes: number; deliveries: number }> {
  const { rows } = await pool.query<{ bytes: string; deliveries: string }>(
    `SELECT pg_total_relation_size('messages') + pg_total_relation_size('deliveries')
       + pg_total_relation_size('attempts') AS bytes,
     (SELECT count(*) FROM deliveries) AS deliveries`,
  );
  return { bytes: Number(rows[0]!.bytes), deliveries: Number(rows[0]!.deliveries) };
}

// The limit counts deliveries (about limit / FANOUT messages). A message with an open delivery
// is passed over, not picked and kept: kept, it would stay at the head of every later batch.
const PRUNE = (cutoff: string, limit: string) => `DELETE FROM messages WHERE id IN (
  SELECT d.message_id FROM deliveries d
  WHERE d.created_at < ${cutoff} AND d.status IN ${FINAL}
    AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.message_id = d.message_id AND o.status IN ${OPEN})
  ORDER BY d.created_at, d.id LIMIT ${limit})`;

/** One retention batch on PostgreSQL: messages deleted. */
export async function prunePg(pool: PgPool, cutoffMs: number, limit: number): Promise<number> {
  const result = await pool.query(PRUNE("$1", "$2"), [new Date(cutoffMs).toISOString(), limit]);
  return result.rowCount ?? 0;
}

// SQLite: recursive CTEs for the rows; timestamps as epoch milliseconds; named parameters
// (better-sqlite3 ignores the ones a statement does not use).
const SQLITE_AT = `@t0 + m * ${MESSAGE_STEP_MS}`;
const SQLITE_ROWS = `WITH RECURSIVE r(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM r WHERE i + 1 < @to)
SELECT i, m, j, printf('%024d', i) AS k, printf('%024d', m) AS mk, ${CLASS} AS c, ${SQLITE_AT} AS at
FROM (SELECT i, i / ${FANOUT} AS m, i % ${FANOUT} AS j FROM r)`;

const SQLITE_MESSAGES = `WITH RECURSIVE r(m) AS (
  SELECT CAST(@from AS INTEGER) / ${FANOUT} UNION ALL SELECT m + 1 FROM r WHERE m + 1 < @to / ${FANOUT})
INSERT INTO messages (id, tenant, type, source, payload, created_at)
SELECT 'msg_00' || printf('%024d', m), @tenant, @type, @source, @payload, ${SQLITE_AT} FROM r`;

const SQLITE_DELIVERIES = `INSERT INTO deliveries (id, message_id, endpoint_id, status, attempts,
  max_attempts, next_attempt_at, last_attempt_at, last_error, last_status_code, created_at, updated_at)
SELECT 'dlv_00' || k, 'msg_00' || mk, '${HISTORY_ENDPOINT}' || j, ${STATUS},
  CASE c WHEN 2 THEN @maxAttempts ELSE 1 END, @maxAttempts,
  CASE c WHEN 1 THEN @now + 3600000 + (m % 32400) * 1000 END,
  at + @durationMs, CASE WHEN c > 0 THEN 'HTTP 503' END,
  CASE WHEN c > 0 THEN 503 ELSE @statusCode END, at, at + @durationMs
FROM (${SQLITE_ROWS})`;

const SQLITE_ATTEMPTS = `INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms,
  succeeded, status_code, response_headers, response_body, error)
SELECT 'att_0' || n || k, 'dlv_00' || k, n, at + (n - 1) * 60000, @durationMs, 0,
  503, @responseHeaders, @responseBody, 'HTTP 503'
FROM (${SQLITE_ROWS})
JOIN (WITH RECURSIVE a(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM a WHERE n < @maxAttempts)
  SELECT n FROM a) ON n <= CASE c WHEN 2 THEN @maxAttempts ELSE 1 END
WHERE c > 0`;

export function sqliteTemplate(db: Database): Template {
  return templateOf(db.prepare(TEMPLATE_QUERY).get() as TemplateRow | undefined);
}

/**
 * Background deliveries [from, to) on SQLite, with their messages and their failures' attempts:
 * one transaction, three INSERT … SELECT, then ANALYZE.
 */
export function seedSqlite(db: Database, t: Template, range: SeedRange): void {
  const values = { ...range, ...t };
  db.transaction(() => {
    for (const sql of [SQLITE_MESSAGES, SQLITE_DELIVERIES, SQLITE_ATTEMPTS]) {
      db.prepare(sql).run(values);
    }
  })();
  db.exec("ANALYZE");
}

const SQLITE_PRUNE = PRUNE("@cutoff", "@limit");

/** One retention batch on SQLite: messages deleted. */
export function pruneSqlite(db: Database, cutoffMs: number, limit: number): number {
  return db.prepare(SQLITE_PRUNE).run({ cutoff: cutoffMs, limit }).changes;
}
