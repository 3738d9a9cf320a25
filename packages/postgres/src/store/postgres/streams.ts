// PostgreSQL live streams: the stream half of the PostgreSQL DeliveryStore. A position is the
// writing transaction and the sequence number (`<stream_xid>.<stream_seq>`, migration 011), and
// reads stop before the oldest transaction still running, so a transaction that commits later
// never lands behind a position already read (the event store's rule, eventStatements.ts).
import {
  newStreamTokenRecord,
  parseStreamCursor,
  streamReadLimit,
  streamTokenPruning,
} from "@heraldjs/core/internal/model/streamRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { StreamItem, StreamStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { streamTokenRows } from "@heraldjs/core/internal/store/sql/streamTokenRows.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { PgPool } from "./database.js";
import { insertStatement, pgCall, rows } from "./deliverySql.js";

const tokens = streamTokenRows(ROW_CODECS.postgres);

/** Messages of transactions that have all ended: none of them can still commit. */
const SETTLED = "stream_xid < pg_snapshot_xmin(pg_current_snapshot())";

const READ = `SELECT stream_xid::text AS cursor_xid, stream_seq::text AS cursor_seq, * FROM messages
  WHERE (stream_xid, stream_seq) > ($1::text::xid8, $2::bigint)
    AND ($3::text IS NULL OR (stream_xid, stream_seq) <= ($3::text::xid8, $4::bigint))
    AND ($5::text IS NULL OR tenant = $5)
    AND ${SETTLED}
  ORDER BY stream_xid, stream_seq LIMIT $6`;

const LATEST = `SELECT stream_xid::text AS cursor_xid, stream_seq::text AS cursor_seq FROM messages
  WHERE ${SETTLED} ORDER BY stream_xid DESC, stream_seq DESC LIMIT 1`;

/** [transaction, sequence] of a cursor, as decimal text. */
function parts(cursor: string): [string, string] {
  const [xid, seq = 0n] = parseStreamCursor(cursor);
  return [String(xid), String(seq)];
}

const cursorOf = (row: Row) => `${row.cursor_xid as string}.${row.cursor_seq as string}`;

export function postgresStreams(pool: PgPool, clock: Clock): StreamStore {
  const one = (text: string, value: string) =>
    pgCall(async () => {
      const row = (await pool.query<Row>(text, [value])).rows[0];
      return row === undefined ? undefined : tokens.record(row);
    });
  return {
    createStreamToken: (input) =>
      pgCall(async () => {
        const record = newStreamTokenRecord(input, isoNow(clock));
        const { text, values } = insertStatement("stream_tokens", tokens.params(record));
        await pool.query(text, values);
        return record;
      }),
    getStreamToken: (id) => one("SELECT * FROM stream_tokens WHERE id = $1", id),
    findStreamToken: (hash) => one("SELECT * FROM stream_tokens WHERE token_hash = $1", hash),
    listStreamTokens: (options = {}) =>
      pgCall(async () => {
        const found =
          options.tenant === undefined
            ? await pool.query<Row>("SELECT * FROM stream_tokens ORDER BY created_at, id")
            : await pool.query<Row>(
                "SELECT * FROM stream_tokens WHERE tenant = $1 ORDER BY created_at, id",
                [options.tenant],
              );
        return found.rows.map(tokens.record);
      }),
    revokeStreamToken: (id, options = {}) =>
      pgCall(async () => {
        // COALESCE keeps the first revocation time when two revoke at once.
        const found = await pool.query<Row>(
          "UPDATE stream_tokens SET revoked_at = COALESCE(revoked_at, $2::timestamptz) WHERE id = $1 RETURNING *",
          [id, isoNow(clock, options.now)],
        );
        const row = found.rows[0];
        return row === undefined ? undefined : tokens.record(row);
      }),
    pruneStreamTokens: (options = {}) =>
      pgCall(async () => {
        const { before, limit } = streamTokenPruning(clock, options);
        const result = await pool.query(
          "DELETE FROM stream_tokens WHERE id IN (SELECT id FROM stream_tokens WHERE expires_at < $1 LIMIT $2)",
          [before, limit],
        );
        return result.rowCount ?? 0;
      }),
    latestStreamCursor: () =>
      pgCall(async () => {
        const row = (await pool.query<Row>(LATEST)).rows[0];
        return row === undefined ? "0.0" : cursorOf(row);
      }),
    readStream: (options) =>
      pgCall(async () => {
        const [afterXid, afterSeq] = parts(options.after);
        const [untilXid, untilSeq] =
          options.until === undefined ? [null, null] : parts(options.until);
        const found = await pool.query<Row>(READ, [
          afterXid,
          afterSeq,
          untilXid,
          untilSeq,
          options.tenant ?? null,
          streamReadLimit(options.limit),
        ]);
        return found.rows.map(
          (row): StreamItem => ({ cursor: cursorOf(row), message: rows.message(row) }),
        );
      }),
  };
}
