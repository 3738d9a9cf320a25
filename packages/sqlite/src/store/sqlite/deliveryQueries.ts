// SQLite reads of the delivery queue: a message with its deliveries, a delivery with its
// attempts, lists with keyset cursors, id prefixes and the metrics queries.

import {
  OPEN_DELIVERY_STATUSES,
  QUEUED_DELIVERY_STATUSES,
} from "@heraldjs/core/internal/model/constants.js";
import {
  deliveryIdRange,
  prefixLimit,
  uniqueMatch,
} from "@heraldjs/core/internal/model/idPrefix.js";
import { deliveryQuery, toPage } from "@heraldjs/core/internal/model/listQuery.js";
import { emptyDepth, queueStats } from "@heraldjs/core/internal/model/stats.js";
import { nowMs } from "@heraldjs/core/internal/model/time.js";
import type {
  DeliveryQueries,
  MessageWithDeliveries,
  QueuedDeliveryStatus,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { inList, pageSql } from "@heraldjs/core/internal/store/sql/sqlText.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { limitOf } from "./database.js";
import { call, keysetClause, rows, type SqliteContext, type SqlParams } from "./deliverySql.js";

// Due deliveries of enabled endpoints (the claim's condition, without the FIFO check). ORDER
// BY + LIMIT rather than MIN(), so the planner walks deliveries_due and stops at the first.
const OLDEST_DUE = `SELECT d.next_attempt_at AS oldest
FROM deliveries d INDEXED BY deliveries_due JOIN endpoints e ON e.id = d.endpoint_id
WHERE d.status IN (${inList(OPEN_DELIVERY_STATUSES)}) AND d.next_attempt_at <= ? AND e.enabled = 1
ORDER BY d.next_attempt_at
LIMIT 1`;

export function messageWithDeliveries(
  ctx: SqliteContext,
  id: string,
): MessageWithDeliveries | undefined {
  const row = ctx.sql("SELECT * FROM messages WHERE id = ?").get(id) as Row | undefined;
  if (row === undefined) return undefined;
  const deliveries = ctx
    .sql("SELECT * FROM deliveries WHERE message_id = ? ORDER BY created_at, id")
    .all(id) as Row[];
  const filtered = ctx
    .sql("SELECT * FROM message_filtered WHERE message_id = ? ORDER BY endpoint_id")
    .all(id) as Row[];
  return {
    message: rows.message(row),
    deliveries: deliveries.map(rows.delivery),
    filtered: filtered.map(rows.filtered),
  };
}

export function sqliteQueries(ctx: SqliteContext, clock: Clock): DeliveryQueries {
  const { sql } = ctx;

  function idsByPrefix(prefix: string, limit?: number): string[] {
    const max = prefixLimit(limit);
    const range = deliveryIdRange(prefix);
    if (range === null) return [];
    const found = sql(
      `SELECT id FROM deliveries WHERE id >= ? AND id < ? ORDER BY id LIMIT ${limitOf("?")}`,
    ).all(range.from, range.to, max) as { id: string }[];
    return found.map((r) => r.id);
  }

  return {
    getMessage: (id) => call(() => messageWithDeliveries(ctx, id)),

    getDelivery: (id) =>
      call(() => {
        const row = sql("SELECT * FROM deliveries WHERE id = ?").get(id) as Row | undefined;
        if (row === undefined) return undefined;
        const attempts = sql(
          "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt_number",
        ).all(id) as Row[];
        return { delivery: rows.delivery(row), attempts: attempts.map(rows.attempt) };
      }),

    listDeliveries: (options) =>
      call(() => {
        const query = deliveryQuery(options);
        const params: SqlParams = { limit: query.limit + 1 };
        const where: string[] = [];
        if (query.statuses !== null) {
          where.push("status IN (SELECT value FROM json_each(@statuses))");
          params.statuses = JSON.stringify(query.statuses);
        }
        if (query.endpointId !== null) {
          where.push("endpoint_id = @endpoint");
          params.endpoint = query.endpointId;
        }
        if (query.messageId !== null) {
          where.push("message_id = @message");
          params.message = query.messageId;
        }
        if (query.createdSince !== null) {
          where.push("created_at >= @since");
          params.since = Date.parse(query.createdSince);
        }
        const keyset = keysetClause(query, params);
        if (keyset !== null) where.push(keyset);
        const text = pageSql("deliveries", where, query, limitOf("@limit"));
        return toPage("deliveries", (sql(text).all(params) as Row[]).map(rows.delivery), query);
      }),

    findDeliveriesByPrefix: (prefix, limit) => call(() => idsByPrefix(prefix, limit)),

    resolveDeliveryId: (idOrPrefix) => call(() => uniqueMatch(idOrPrefix, idsByPrefix(idOrPrefix))),

    deliveryStats: (options = {}) =>
      call(() => {
        const now = nowMs(clock, options.now);
        const depth = emptyDepth();
        const counts = sql(
          `SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN (${inList(QUEUED_DELIVERY_STATUSES)}) GROUP BY status`,
        ).all() as { status: QueuedDeliveryStatus; n: number }[];
        for (const { status, n } of counts) depth[status] = n;
        const row = sql(OLDEST_DUE).get(now) as { oldest: number } | undefined;
        return queueStats(depth, row?.oldest ?? null, now);
      }),
  };
}
