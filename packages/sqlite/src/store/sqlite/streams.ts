// SQLite live streams: the stream half of the SQLite DeliveryStore. Positions are
// message_stream.seq (migration 011): numbered in commit order by the one writer.
import {
  newStreamTokenRecord,
  parseStreamCursor,
  revokedStreamToken,
  streamReadLimit,
  streamTokenPruning,
} from "@heraldjs/core/internal/model/streamRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { StreamItem, StreamStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { streamTokenRows } from "@heraldjs/core/internal/store/sql/streamTokenRows.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { limitOf } from "./database.js";
import { call, insertSql, rows, type SqliteContext } from "./deliverySql.js";

const tokens = streamTokenRows(ROW_CODECS.sqlite);

const READ = `SELECT s.seq AS stream_seq, m.* FROM message_stream s
  JOIN messages m ON m.id = s.message_id
  WHERE s.seq > @after AND s.seq <= @until AND (@tenant IS NULL OR m.tenant = @tenant)
  ORDER BY s.seq LIMIT ${limitOf("@limit")}`;

/** The one number of an SQLite cursor. */
const seqOf = (cursor: string) => parseStreamCursor(cursor)[0]!;

export function sqliteStreams(ctx: SqliteContext, clock: Clock): StreamStore {
  const { sql } = ctx;
  const one = (text: string, value: string) =>
    call(() => {
      const row = sql(text).get(value) as Row | undefined;
      return row === undefined ? undefined : tokens.record(row);
    });
  return {
    createStreamToken: (input) =>
      call(() => {
        const record = newStreamTokenRecord(input, isoNow(clock));
        const params = tokens.params(record);
        sql(insertSql("stream_tokens", params)).run(params);
        return record;
      }),
    getStreamToken: (id) => one("SELECT * FROM stream_tokens WHERE id = ?", id),
    findStreamToken: (hash) => one("SELECT * FROM stream_tokens WHERE token_hash = ?", hash),
    listStreamTokens: (options = {}) =>
      call(() => {
        const found =
          options.tenant === undefined
            ? sql("SELECT * FROM stream_tokens ORDER BY created_at, id").all()
            : sql("SELECT * FROM stream_tokens WHERE tenant = ? ORDER BY created_at, id").all(
                options.tenant,
              );
        return (found as Row[]).map(tokens.record);
      }),
    revokeStreamToken: (id, options = {}) =>
      call(() =>
        ctx.immediate(() => {
          const row = sql("SELECT * FROM stream_tokens WHERE id = ?").get(id) as Row | undefined;
          if (row === undefined) return undefined;
          const next = revokedStreamToken(tokens.record(row), isoNow(clock, options.now));
          sql("UPDATE stream_tokens SET revoked_at = ? WHERE id = ?").run(
            ROW_CODECS.sqlite.time(next.revokedAt!),
            id,
          );
          return next;
        }),
      ),
    pruneStreamTokens: (options = {}) =>
      call(() => {
        const { before, limit } = streamTokenPruning(clock, options);
        return sql(
          `DELETE FROM stream_tokens WHERE id IN (SELECT id FROM stream_tokens WHERE expires_at < ? LIMIT ${limitOf("?")})`,
        ).run(ROW_CODECS.sqlite.time(before), limit).changes;
      }),
    latestStreamCursor: () =>
      call(() => {
        const row = sql("SELECT max(seq) AS seq FROM message_stream").get() as {
          seq: number | null;
        };
        return String(row.seq ?? 0);
      }),
    readStream: (options) =>
      call(() => {
        const found = sql(READ).all({
          after: seqOf(options.after),
          until: options.until === undefined ? Number.MAX_SAFE_INTEGER : seqOf(options.until),
          tenant: options.tenant ?? null,
          limit: streamReadLimit(options.limit),
        }) as Row[];
        return found.map(
          (row): StreamItem => ({ cursor: String(row.stream_seq), message: rows.message(row) }),
        );
      }),
  };
}
