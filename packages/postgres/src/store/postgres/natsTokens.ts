// PostgreSQL NATS tokens: the NATS-token half of the PostgreSQL DeliveryStore (table
// nats_tokens, migration 012), kept by the token's SHA-256 only.
import { newNatsTokenRecord } from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { NatsTokenStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { ROW_CODECS, type Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { natsTokenRows } from "@heraldjs/core/internal/store/sql/natsTokenRows.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { PgPool } from "./database.js";
import { insertStatement, pgCall } from "./deliverySql.js";

const tokens = natsTokenRows(ROW_CODECS.postgres);

const LIST = `SELECT * FROM nats_tokens
  WHERE ($1::text IS NULL OR tenant = $1)
    AND ($2::text IS NULL OR identity = $2)
    AND ($3::text IS NULL OR subject_id = $3)
  ORDER BY id`;

export function postgresNatsTokens(pool: PgPool, clock: Clock): NatsTokenStore {
  const one = (text: string, value: string) =>
    pgCall(async () => {
      const row = (await pool.query<Row>(text, [value])).rows[0];
      return row === undefined ? undefined : tokens.record(row);
    });
  return {
    createNatsToken: (input) =>
      pgCall(async () => {
        const record = newNatsTokenRecord(input, isoNow(clock));
        const { text, values } = insertStatement("nats_tokens", tokens.params(record));
        await pool.query(text, values);
        return record;
      }),
    getNatsToken: (id) => one("SELECT * FROM nats_tokens WHERE id = $1", id),
    findNatsToken: (hash) => one("SELECT * FROM nats_tokens WHERE token_hash = $1", hash),
    listNatsTokens: (options = {}) =>
      pgCall(async () => {
        const found = await pool.query<Row>(LIST, [
          options.tenant ?? null,
          options.identity ?? null,
          options.subjectId ?? null,
        ]);
        return found.rows.map(tokens.record);
      }),
    revokeNatsToken: (id, options = {}) =>
      pgCall(async () => {
        // COALESCE keeps the first revocation time when two revoke at once.
        const found = await pool.query<Row>(
          "UPDATE nats_tokens SET revoked_at = COALESCE(revoked_at, $2::timestamptz) WHERE id = $1 RETURNING *",
          [id, isoNow(clock, options.now)],
        );
        const row = found.rows[0];
        return row === undefined ? undefined : tokens.record(row);
      }),
  };
}
