// PostgreSQL reads of the delivery queue: a message with its deliveries, a delivery with its
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
import type { PgPool } from "./database.js";
import { keysetClause, parameters, pgCall, type Queryable, rows } from "./deliverySql.js";

// Due deliveries of enabled endpoints (the claim's condition, without the FIFO check). ORDER
// BY + LIMIT rather than MIN(), so the planner walks deliveries_due and stops at the first.
const OLDEST_DUE = `SELECT d.next_attempt_at AS oldest
FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
WHERE d.status IN (${inList(OPEN_DELIVERY_STATUSES)}) AND d.next_attempt_at <= $1 AND e.enabled
ORDER BY d.next_attempt_at
LIMIT 1`;

const DEPTH = `SELECT status, COUNT(*)::int AS n FROM deliveries
WHERE status IN (${inList(QUEUED_DELIVERY_STATUSES)}) GROUP BY status`;

async function messageWithDeliveries(
  db: Queryable,
  id: string,
): Promise<MessageWithDeliveries | undefined> {
  const { rows: found } = await db.query<Row>("SELECT * FROM messages WHERE id = $1", [id]);
  if (found[0] === undefined) return undefined;
  const deliveries = await db.query<Row>(
    "SELECT * FROM deliveries WHERE message_id = $1 ORDER BY created_at, id",
    [id],
  );
  const filtered = await db.query<Row>(
    'SELECT * FROM message_filtered WHERE message_id = $1 ORDER BY endpoint_id COLLATE "C"',
    [id],
  );
  return {
    message: rows.message(found[0]),
    deliveries: deliveries.rows.map(rows.delivery),
    filtered: filtered.rows.map(rows.filtered),
  };
}

/**
 * Several messages with their deliveries, by id (absent ids are left out), for the results of
 * duplicates, which carry no filtered endpoints: `filtered` is left empty.
 */
export async function messagesWithDeliveries(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, MessageWithDeliveries>> {
  const found = new Map<string, MessageWithDeliveries>();
  if (ids.length === 0) return found;
  const messages = await db.query<Row>("SELECT * FROM messages WHERE id = ANY($1::text[])", [ids]);
  for (const row of messages.rows) {
    const message = rows.message(row);
    found.set(message.id, { message, deliveries: [], filtered: [] });
  }
  const deliveries = await db.query<Row>(
    "SELECT * FROM deliveries WHERE message_id = ANY($1::text[]) ORDER BY created_at, id",
    [ids],
  );
  for (const row of deliveries.rows) {
    const delivery = rows.delivery(row);
    found.get(delivery.messageId)?.deliveries.push(delivery);
  }
  return found;
}

export function postgresQueries(pool: PgPool, clock: Clock): DeliveryQueries {
  async function idsByPrefix(prefix: string, limit?: number): Promise<string[]> {
    const max = prefixLimit(limit);
    const range = deliveryIdRange(prefix);
    if (range === null) return [];
    const { rows: found } = await pool.query<{ id: string }>(
      "SELECT id FROM deliveries WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
      [range.from, range.to, max],
    );
    return found.map((r) => r.id);
  }

  return {
    getMessage: (id) => pgCall(() => messageWithDeliveries(pool, id)),

    getDelivery: (id) =>
      pgCall(async () => {
        const { rows: found } = await pool.query<Row>("SELECT * FROM deliveries WHERE id = $1", [
          id,
        ]);
        if (found[0] === undefined) return undefined;
        const attempts = await pool.query<Row>(
          "SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY attempt_number",
          [id],
        );
        return { delivery: rows.delivery(found[0]), attempts: attempts.rows.map(rows.attempt) };
      }),

    listDeliveries: (options) =>
      pgCall(async () => {
        const query = deliveryQuery(options);
        const { p, values } = parameters();
        const where: string[] = [];
        if (query.statuses !== null) where.push(`status = ANY(${p(query.statuses)}::text[])`);
        if (query.endpointId !== null) where.push(`endpoint_id = ${p(query.endpointId)}`);
        if (query.messageId !== null) where.push(`message_id = ${p(query.messageId)}`);
        if (query.createdSince !== null) where.push(`created_at >= ${p(query.createdSince)}`);
        const keyset = keysetClause(query, p);
        if (keyset !== null) where.push(keyset);
        const text = pageSql("deliveries", where, query, p(query.limit + 1));
        const found = (await pool.query<Row>(text, values)).rows.map(rows.delivery);
        return toPage("deliveries", found, query);
      }),

    findDeliveriesByPrefix: (prefix, limit) => pgCall(() => idsByPrefix(prefix, limit)),

    resolveDeliveryId: (idOrPrefix) =>
      pgCall(async () => uniqueMatch(idOrPrefix, await idsByPrefix(idOrPrefix))),

    deliveryStats: (options = {}) =>
      pgCall(async () => {
        const now = nowMs(clock, options.now);
        const depth = emptyDepth();
        const counts = await pool.query<{ status: QueuedDeliveryStatus; n: number }>(DEPTH);
        for (const { status, n } of counts.rows) depth[status] = n;
        const { rows: oldest } = await pool.query<{ oldest: Date | null }>(OLDEST_DUE, [
          new Date(now).toISOString(),
        ]);
        const at = oldest[0]?.oldest ?? null;
        return queueStats(depth, at === null ? null : at.getTime(), now);
      }),
  };
}
