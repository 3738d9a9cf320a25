// SQLite NATS tokens: the NATS-token half of the SQLite DeliveryStore (table nats_tokens,
// migration 012), kept by the token's SHA-256 only.
import {
  newNatsTokenRecord,
  revokedNatsToken,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { NatsTokenStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { natsTokenRows } from "@heraldjs/core/internal/store/sql/natsTokenRows.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { call, insertSql, type SqliteContext } from "./deliverySql.js";

const tokens = natsTokenRows(ROW_CODECS.sqlite);

const LIST = `SELECT * FROM nats_tokens
  WHERE (@tenant IS NULL OR tenant = @tenant)
    AND (@identity IS NULL OR identity = @identity)
    AND (@subject_id IS NULL OR subject_id = @subject_id)
  ORDER BY id`;

export function sqliteNatsTokens(ctx: SqliteContext, clock: Clock): NatsTokenStore {
  const { sql } = ctx;
  const one = (text: string, value: string) =>
    call(() => {
      const row = sql(text).get(value) as Row | undefined;
      return row === undefined ? undefined : tokens.record(row);
    });
  return {
    createNatsToken: (input) =>
      call(() => {
        const record = newNatsTokenRecord(input, isoNow(clock));
        const params = tokens.params(record);
        sql(insertSql("nats_tokens", params)).run(params);
        return record;
      }),
    getNatsToken: (id) => one("SELECT * FROM nats_tokens WHERE id = ?", id),
    findNatsToken: (hash) => one("SELECT * FROM nats_tokens WHERE token_hash = ?", hash),
    listNatsTokens: (options = {}) =>
      call(() => {
        const found = sql(LIST).all({
          tenant: options.tenant ?? null,
          identity: options.identity ?? null,
          subject_id: options.subjectId ?? null,
        }) as Row[];
        return found.map(tokens.record);
      }),
    revokeNatsToken: (id, options = {}) =>
      call(() =>
        ctx.immediate(() => {
          const row = sql("SELECT * FROM nats_tokens WHERE id = ?").get(id) as Row | undefined;
          if (row === undefined) return undefined;
          const next = revokedNatsToken(tokens.record(row), isoNow(clock, options.now));
          sql("UPDATE nats_tokens SET revoked_at = ? WHERE id = ?").run(
            ROW_CODECS.sqlite.time(next.revokedAt!),
            id,
          );
          return next;
        }),
      ),
  };
}
