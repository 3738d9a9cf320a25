// PostgreSQL statements of the inbound dedupe keys (table inbound_keys, migration 004): taking
// a batch's keys and pruning expired ones.

import { type InboundKeyRow, pruneOptions } from "@heraldjs/core/internal/model/inboundKeys.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { PgClient, PgPool } from "./database.js";
import { pgCall } from "./deliverySql.js";

// The primary key settles concurrent takers: a conflicting insert waits for the other
// transaction, then takes the row only if it is expired at `now`; otherwise no row comes back and
// the row stays locked until this transaction ends. Sorted, so two batches sharing several keys
// lock them in one order and never deadlock.
// `keys` and `now` name the parameters: the JSON rows, and the time a held key must have
// expired by (createMessages also runs this as a CTE of its batch's one write); `returning`
// the columns of the keys taken.
export const takeInboundKeysSql = (
  keys: string,
  now: string,
  returning = "source, key",
  /** A condition the keys are taken under (`WHERE …`), e.g. a guard; default none. */
  where = "",
) =>
  `INSERT INTO inbound_keys (source, key, message_id, expires_at)
SELECT source, key, message_id, expires_at
FROM json_populate_recordset(NULL::inbound_keys, ${keys}::json)${
    where === ""
      ? ""
      : `
WHERE ${where}`
  }
ORDER BY source, key
ON CONFLICT (source, key) DO UPDATE
  SET message_id = excluded.message_id, expires_at = excluded.expires_at
  WHERE inbound_keys.expires_at <= ${now}
RETURNING ${returning}`;
const TAKE = takeInboundKeysSql("$1", "$2");

// Served by inbound_keys_expires. FOR UPDATE re-checks expires_at on a row a writer replaced
// meanwhile (so a freshly taken key is never deleted); SKIP LOCKED lets two pruners share.
const PRUNE = `DELETE FROM inbound_keys WHERE (source, key) IN (
  SELECT source, key FROM inbound_keys WHERE expires_at <= $1
  ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/** The keys as the JSON rows parameter of takeInboundKeysSql. */
export function inboundKeyRowsJson(keys: readonly InboundKeyRow[]): string {
  return JSON.stringify(
    keys.map((k) => ({
      source: k.source,
      key: k.key,
      message_id: k.messageId,
      expires_at: k.expiresAt,
    })),
  );
}

/**
 * Stores the keys a batch took (new, or replacing an expired one) inside its transaction;
 * resolves to false when a concurrent writer holds one of them live (the batch must decide
 * again).
 */
export async function takeInboundKeys(
  client: PgClient,
  keys: readonly InboundKeyRow[],
  nowIso: string,
): Promise<boolean> {
  if (keys.length === 0) return true;
  const { rowCount } = await client.query(TAKE, [inboundKeyRowsJson(keys), nowIso]);
  return rowCount === keys.length;
}

export function postgresPruneInboundKeys(
  pool: PgPool,
  clock: Clock,
): DeliveryStore["pruneInboundKeys"] {
  return (options) =>
    pgCall(async () => {
      const { now, limit } = pruneOptions(options);
      const { rowCount } = await pool.query(PRUNE, [isoNow(clock, now), limit]);
      return rowCount ?? 0;
    });
}
