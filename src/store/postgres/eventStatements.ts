// The PostgreSQL event store's SQL, one statement per operation, and the row shape it reads.
import type { EventColumns } from "../eventRow.js";

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
