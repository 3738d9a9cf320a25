// SQLite statements of the inbound dedupe keys (table inbound_keys, migration 004): the holder
// of a key, writing the keys a batch took, and pruning expired ones.

import type { InboundKeyRow } from "@heraldjs/core/internal/model/inboundKeys.js";
import { pruneOptions } from "@heraldjs/core/internal/model/inboundKeys.js";
import { nowMs } from "@heraldjs/core/internal/model/time.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { limitOf } from "./database.js";
import { call, type SqliteContext } from "./deliverySql.js";

// Under the IMMEDIATE lock the batch has already seen this key absent or expired, so the
// replacement needs no condition of its own. Primary key lookup.
const TAKE = `INSERT INTO inbound_keys (source, key, message_id, expires_at)
VALUES (@source, @key, @message_id, @expires_at)
ON CONFLICT (source, key) DO UPDATE
  SET message_id = excluded.message_id, expires_at = excluded.expires_at`;

// Served by inbound_keys_expires: reads expired keys only, oldest first, up to the limit.
const PRUNE = `DELETE FROM inbound_keys WHERE (source, key) IN (
  SELECT source, key FROM inbound_keys WHERE expires_at <= @now ORDER BY expires_at LIMIT ${limitOf("@limit")})`;

/** The stored key of `source` (live or expired), inside the caller's transaction. */
export function inboundKeyHolder(
  ctx: SqliteContext,
  source: string,
  key: string,
): { messageId: string; expiresAt: string } | undefined {
  const row = ctx
    .sql("SELECT message_id, expires_at FROM inbound_keys WHERE source = ? AND key = ?")
    .get(source, key) as { message_id: string; expires_at: number } | undefined;
  return row && { messageId: row.message_id, expiresAt: new Date(row.expires_at).toISOString() };
}

/** Stores the keys a batch took (new, or replacing an expired one). */
export function takeInboundKeys(ctx: SqliteContext, keys: readonly InboundKeyRow[]): void {
  const take = ctx.sql(TAKE);
  for (const k of keys) {
    take.run({
      source: k.source,
      key: k.key,
      message_id: k.messageId,
      expires_at: Date.parse(k.expiresAt),
    });
  }
}

export function sqlitePruneInboundKeys(
  ctx: SqliteContext,
  clock: Clock,
): DeliveryStore["pruneInboundKeys"] {
  return (options) =>
    call(() => {
      const { now, limit } = pruneOptions(options);
      const at = nowMs(clock, now);
      return ctx.immediate(() => ctx.sql(PRUNE).run({ now: at, limit }).changes);
    });
}
