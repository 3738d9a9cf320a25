// The PostgreSQL event store's SQL, one statement per operation, and the row shape it reads.
import type { EventColumns } from "@heraldjs/core/internal/store/sql/eventRow.js";

export interface PgEventRow extends EventColumns {
  position: string;
  transaction_id: string;
  committed_at: Date;
}

const EVENT_COLUMNS = `position::text AS position, transaction_id::text AS transaction_id, stream,
  version, event_id::text AS event_id, type, source, occurred_at, correlation_id, causation_id,
  payload, metadata, committed_at`;

/**
 * Creates the stream row or locks the existing one, and returns its head. ON CONFLICT DO
 * UPDATE waits for a concurrent writer of the same stream to finish and then returns the head
 * it left, so the check that follows runs under the lock, against the latest head.
 */
export const LOCK_STREAM = `INSERT INTO streams (name, type, id, version) VALUES ($1, $2, $3, 0)
  ON CONFLICT (name) DO UPDATE SET version = streams.version
  RETURNING version`;

export const FIND_IDS = `SELECT event_id::text AS "eventId", stream, version FROM events
  WHERE event_id = ANY ($1::uuid[])`;

/** The batch travels as one jsonb array, kept in its order by WITH ORDINALITY. */
export const INSERT_EVENTS = `INSERT INTO events (stream, version, event_id, type, source,
    occurred_at, correlation_id, causation_id, payload, metadata, published)
  SELECT $1, (e->>'version')::integer, (e->>'id')::uuid, e->>'type', e->>'source',
    e->>'occurredAt', e->>'correlationId', e->>'causationId', e->'payload', e->'metadata', $3
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS batch (e, n)
  ORDER BY n
  RETURNING position::text AS position, transaction_id::text AS transaction_id, version,
    committed_at`;

/** A one-statement append: for a batch (one jsonb array) and for a single event (scalars). */
interface OneStatementAppend {
  batch: { name: string; text: string };
  single: { name: string; text: string };
}

const INSERTED = `RETURNING position::text AS position, transaction_id::text AS transaction_id, version,
    committed_at`;

/**
 * One-statement appends, the common case of EventStore.append: the stream row's check and
 * head bump, and the events' insert, as one statement in its own transaction (one round trip,
 * no BEGIN/COMMIT). The head CTE locks the stream row like LOCK_STREAM, so writers of one
 * stream still take turns; it yields no row when the expected version does not hold, and then
 * nothing is inserted. A stored event id fails the insert on its unique index, which rolls
 * the whole statement back. Either way the caller falls back to the locked multi-statement
 * path, which reports the conflict or decides the idempotent retry exactly as before.
 * Parameters: $1 stream, $2 batch size, $3 published, then the head's own (`headParams` of
 * them), then the events: one jsonb array for a batch; id, type, source, occurredAt,
 * correlationId, causationId, payload and metadata for a single event. Named, so each
 * connection parses and plans them once.
 */
function oneStatementAppend(name: string, head: string, headParams: number): OneStatementAppend {
  const p = (offset: number) => `$${4 + headParams + offset}`;
  const columns = `INSERT INTO events (stream, version, event_id, type, source, occurred_at,
    correlation_id, causation_id, payload, metadata, published)`;
  return {
    batch: {
      name: `${name}_batch`,
      text: `WITH head AS (${head})
  ${columns}
  SELECT $1, head.base + batch.n::integer, (e->>'id')::uuid, e->>'type', e->>'source',
    e->>'occurredAt', e->>'correlationId', e->>'causationId', e->'payload', e->'metadata', $3
  FROM head, jsonb_array_elements(${p(0)}::jsonb) WITH ORDINALITY AS batch (e, n)
  ORDER BY batch.n
  ${INSERTED}`,
    },
    single: {
      name: `${name}_single`,
      text: `WITH head AS (${head})
  ${columns}
  SELECT $1, head.base + 1, ${p(0)}::uuid, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)},
    ${p(6)}::jsonb, ${p(7)}::jsonb, $3
  FROM head
  ${INSERTED}`,
    },
  };
}

/** Expected version $4 > 0: bump the head only if it is still $4 (re-checked after a wait). */
export const APPEND_AT_VERSION = oneStatementAppend(
  "herald_append_at_version",
  `UPDATE streams SET version = version + $2::integer
    WHERE name = $1 AND version = $4::integer
    RETURNING version - $2::integer AS base`,
  1,
);

/** Expected version 0: create the stream ($4 type, $5 id) only if it does not exist. */
export const APPEND_NEW_STREAM = oneStatementAppend(
  "herald_append_new_stream",
  `INSERT INTO streams (name, type, id, version) VALUES ($1, $4, $5, $2::integer)
    ON CONFLICT (name) DO NOTHING
    RETURNING 0 AS base`,
  2,
);

/** Expected version "any" (or the check disabled): create or bump the stream. */
export const APPEND_ANY_VERSION = oneStatementAppend(
  "herald_append_any_version",
  `INSERT INTO streams (name, type, id, version) VALUES ($1, $4, $5, $2::integer)
    ON CONFLICT (name) DO UPDATE SET version = streams.version + excluded.version
    RETURNING version - $2::integer AS base`,
  2,
);

export const SET_HEAD = "UPDATE streams SET version = $2 WHERE name = $1";

export const STREAM_HEAD = "SELECT version FROM streams WHERE name = $1";

export const LOAD = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3`;

/**
 * Commit order. Only transactions older than the oldest one still running
 * (pg_snapshot_xmin) are read: they have all finished, and every transaction that has not
 * gets a larger id, so it sorts after the cursor and is read once it commits. Paging by
 * (transaction_id, position) — not position, which is taken before commit — keeps that true.
 */
function readSql(outboxOnly: boolean): string {
  return `SELECT ${EVENT_COLUMNS} FROM events
  WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    AND (transaction_id, position) > ($1::xid8, $2::bigint)${outboxOnly ? "\n    AND published" : ""}
  ORDER BY transaction_id, position
  LIMIT $3`;
}

export const READ_ALL = readSql(false);
export const READ_OUTBOX = readSql(true);

export const GET_CHECKPOINT = "SELECT checkpoint FROM checkpoints WHERE name = $1";

export const SAVE_CHECKPOINT = `INSERT INTO checkpoints (name, checkpoint, updated_at)
  VALUES ($1, $2, now())
  ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = now()`;
