// The `scale` benchmark's background rows and its retention job, in SQL for both dialects.
//
// Background row i is message `msg_00<i, 24 digits>` with one delivery and its attempts, made
// at T0 + i × 250 ms (T0: 31 days before the run), so row 10,000,000 is two days old. The ids
// keep the length of Herald's prefixed ULIDs and sort before every real one (`01…`): older rows,
// lower ids, as the real ones. Every column not derived from i is copied from a delivery the
// built worker made in the same run (the template): payload, endpoint, max_attempts, the
// attempt's duration, status, response headers and body. Of every 100 rows, 97 are delivered
// (one succeeded attempt), 2 dead-lettered (max_attempts failed attempts) and 1 retrying, due
// again within the next 10 hours (one failed attempt): open, in deliveries_due, never due
// during the run.
//
// Retention is not part of Herald: the benchmark runs it as an operator's job would, deleting
// messages whose deliveries are all final and older than the cutoff, oldest first, in batches
// (the deliveries and attempts go with them: ON DELETE CASCADE).
import type { Database } from "better-sqlite3";
import type { PgPool } from "../packages/postgres/src/store/postgres/database.js";

/** Milliseconds between two background rows' creation times. */
export const ROW_STEP_MS = 250;
/** Background rows start this long before the run. */
export const HISTORY_MS = 31 * 24 * 3600 * 1000;

/** The values copied from a real delivery into every background row. */
export interface Template {
  tenant: string;
  type: string;
  source: string | null;
  /** JSON text. */
  payload: string;
  endpointId: string;
  maxAttempts: number;
  durationMs: number;
  statusCode: number | null;
  /** JSON text, or null. */
  responseHeaders: string | null;
  responseBody: string | null;
}

export interface SeedRange {
  /** First background row (inclusive). */
  from: number;
  /** Last background row (exclusive). */
  to: number;
  /** Epoch ms of T0. */
  t0: number;
  /** Epoch ms of the run's start: retrying rows are due after it. */
  now: number;
}

const TEMPLATE_QUERY = `SELECT m.tenant, m.type, m.source, m.payload, d.endpoint_id, d.max_attempts,
  a.duration_ms, a.status_code, a.response_headers, a.response_body
FROM deliveries d JOIN messages m ON m.id = d.message_id JOIN attempts a ON a.delivery_id = d.id
WHERE d.status = 'delivered' AND a.succeeded
LIMIT 1`;

interface TemplateRow {
  tenant: string;
  type: string;
  source: string | null;
  payload: unknown;
  endpoint_id: string;
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
    endpointId: row.endpoint_id,
    maxAttempts: row.max_attempts,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    responseHeaders: jsonText(row.response_headers),
    responseBody: row.response_body,
  };
}

// Per row i: its 24-digit key, status class (0 retrying, 1–2 dead, else delivered), creation.
const FINAL = "('delivered', 'dead_lettered', 'cancelled')";
const OPEN = "('pending', 'delivering', 'retrying')";

// PostgreSQL: generate_series; timestamps as timestamptz. $1 from, $2 to, $3 T0 (ISO), $4 now (ISO).
const PG_ROWS = `SELECT i, lpad(i::text, 24, '0') AS k, i % 100 AS c,
  $3::timestamptz + i * interval '${ROW_STEP_MS} milliseconds' AS at, $4::timestamptz AS now
FROM generate_series($1::bigint, $2::bigint - 1) i`;

const PG_MESSAGES = `INSERT INTO messages (id, tenant, type, source, payload, created_at)
SELECT 'msg_00' || k, $5, $6, $7, $8::jsonb, at FROM (${PG_ROWS}) s`;

const PG_DELIVERIES = `INSERT INTO deliveries (id, message_id, endpoint_id, status, attempts,
  max_attempts, next_attempt_at, last_attempt_at, last_error, last_status_code, created_at, updated_at)
SELECT 'dlv_00' || k, 'msg_00' || k, $5,
  CASE WHEN c = 0 THEN 'retrying' WHEN c < 3 THEN 'dead_lettered' ELSE 'delivered' END,
  CASE WHEN c IN (1, 2) THEN $6 ELSE 1 END, $6,
  CASE WHEN c = 0 THEN now + interval '1 minute' + (i % 36000) * interval '1 second' END,
  at + $7::float8 * interval '1 millisecond',
  CASE WHEN c < 3 THEN 'HTTP 503' END,
  CASE WHEN c < 3 THEN 503 ELSE $8 END,
  at, at + $7::float8 * interval '1 millisecond'
FROM (${PG_ROWS}) s`;

const PG_ATTEMPTS = `INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms,
  succeeded, status_code, response_headers, response_body, error)
SELECT 'att_0' || n || k, 'dlv_00' || k, n, at + (n - 1) * interval '1 minute', $5, c >= 3,
  CASE WHEN c < 3 THEN 503 ELSE $6 END, $7::jsonb, $8, CASE WHEN c < 3 THEN 'HTTP 503' END
FROM (${PG_ROWS}) s CROSS JOIN LATERAL generate_series(1, CASE WHEN c IN (1, 2) THEN $9 ELSE 1 END) n`;

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

/** From this many new rows on, the secondary indexes are dropped and built again after. */
const REBUILD_FROM = 1_000_000;

/**
 * Background rows [from, to) on PostgreSQL: each table in one INSERT … SELECT per million rows,
 * on one connection with the foreign-key triggers off (session_replication_role = replica: the
 * rows are consistent by construction); a big load drops the secondary indexes first and builds
 * them again after; then ANALYZE.
 */
export async function seedPg(pool: PgPool, t: Template, range: SeedRange): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SET session_replication_role = replica");
    await client.query("SET synchronous_commit = off");
    await client.query("SET maintenance_work_mem = '256MB'");
    const { rows: indexes } = await client.query<{ name: string; def: string }>(PG_INDEXES);
    const rebuild = range.to - range.from >= REBUILD_FROM;
    if (rebuild) await client.query(`DROP INDEX ${indexes.map((i) => i.name).join(", ")}`);
    const chunk = 1_000_000;
    for (let from = range.from; from < range.to; from += chunk) {
      const to = Math.min(range.to, from + chunk);
      const rows = [from, to, new Date(range.t0).toISOString(), new Date(range.now).toISOString()];
      await client.query("BEGIN");
      await client.query(PG_MESSAGES, [...rows, t.tenant, t.type, t.source, t.payload]);
      await client.query(PG_DELIVERIES, [
        ...rows,
        t.endpointId,
        t.maxAttempts,
        t.durationMs,
        t.statusCode,
      ]);
      await client.query(PG_ATTEMPTS, [
        ...rows,
        t.durationMs,
        t.statusCode,
        t.responseHeaders,
        t.responseBody,
        t.maxAttempts,
      ]);
      await client.query("COMMIT");
    }
    if (rebuild) for (const index of indexes) await client.query(index.def);
    await client.query("RESET session_replication_role");
    await client.query("ANALYZE messages, deliveries, attempts");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The three tables' bytes on disk (heap, indexes, TOAST) and their row counts. */
export async function pgDisk(pool: PgPool): Promise<{ bytes: number; messages: number }> {
  const { rows } = await pool.query<{ bytes: string; messages: string }>(
    `SELECT pg_total_relation_size('messages') + pg_total_relation_size('deliveries')
       + pg_total_relation_size('attempts') AS bytes,
     (SELECT count(*) FROM messages) AS messages`,
  );
  return { bytes: Number(rows[0]!.bytes), messages: Number(rows[0]!.messages) };
}

const PRUNE = (cutoff: string, limit: string) => `DELETE FROM messages WHERE id IN (
  SELECT d.message_id FROM deliveries d
  WHERE d.created_at < ${cutoff} AND d.status IN ${FINAL}
  ORDER BY d.created_at, d.id LIMIT ${limit})
AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.message_id = messages.id AND o.status IN ${OPEN})`;

/** One retention batch on PostgreSQL: messages deleted. */
export async function prunePg(pool: PgPool, cutoffMs: number, limit: number): Promise<number> {
  const result = await pool.query(PRUNE("$1", "$2"), [new Date(cutoffMs).toISOString(), limit]);
  return result.rowCount ?? 0;
}

// SQLite: a recursive CTE for the rows; timestamps as epoch milliseconds; named parameters
// (better-sqlite3 ignores the ones a statement does not use).
const SQLITE_ROWS = `WITH RECURSIVE r(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM r WHERE i + 1 < @to)
SELECT i, printf('%024d', i) AS k, i % 100 AS c, @t0 + i * ${ROW_STEP_MS} AS at FROM r`;

const SQLITE_MESSAGES = `INSERT INTO messages (id, tenant, type, source, payload, created_at)
SELECT 'msg_00' || k, @tenant, @type, @source, @payload, at FROM (${SQLITE_ROWS})`;

const SQLITE_DELIVERIES = `INSERT INTO deliveries (id, message_id, endpoint_id, status, attempts,
  max_attempts, next_attempt_at, last_attempt_at, last_error, last_status_code, created_at, updated_at)
SELECT 'dlv_00' || k, 'msg_00' || k, @endpointId,
  CASE WHEN c = 0 THEN 'retrying' WHEN c < 3 THEN 'dead_lettered' ELSE 'delivered' END,
  CASE WHEN c IN (1, 2) THEN @maxAttempts ELSE 1 END, @maxAttempts,
  CASE WHEN c = 0 THEN @now + 60000 + (i % 36000) * 1000 END,
  at + @durationMs, CASE WHEN c < 3 THEN 'HTTP 503' END,
  CASE WHEN c < 3 THEN 503 ELSE @statusCode END, at, at + @durationMs
FROM (${SQLITE_ROWS})`;

const SQLITE_ATTEMPTS = `INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms,
  succeeded, status_code, response_headers, response_body, error)
SELECT 'att_0' || n || k, 'dlv_00' || k, n, at + (n - 1) * 60000, @durationMs, c >= 3,
  CASE WHEN c < 3 THEN 503 ELSE @statusCode END, @responseHeaders, @responseBody,
  CASE WHEN c < 3 THEN 'HTTP 503' END
FROM (${SQLITE_ROWS})
JOIN (WITH RECURSIVE a(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM a WHERE n < @maxAttempts)
  SELECT n FROM a) ON n <= CASE WHEN c IN (1, 2) THEN @maxAttempts ELSE 1 END`;

export function sqliteTemplate(db: Database): Template {
  return templateOf(db.prepare(TEMPLATE_QUERY).get() as TemplateRow | undefined);
}

/** Background rows [from, to) on SQLite: one transaction, three INSERT … SELECT, then ANALYZE. */
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
