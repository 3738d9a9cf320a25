// SQLite createMessages: a whole batch in one IMMEDIATE transaction. The write lock serialises
// writers across connections and processes, so what the batch reads (idempotency and dedupe
// keys, endpoints) still holds when it writes; better-sqlite3 is synchronous, so the batch is
// one db.transaction from the first read to the commit.

import { endpointsVersionChanged } from "@heraldjs/core/internal/model/endpointRoutes.js";
import {
  assertEndpoints,
  batchResults,
  newBatchRecords,
  planBatch,
} from "@heraldjs/core/internal/model/messageBatch.js";
import { type NewMessage, payloadJson } from "@heraldjs/core/internal/model/messageRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type {
  DeliveryStore,
  MessageWithDeliveries,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { Statement } from "better-sqlite3";
import { readEndpointsVersion } from "./deliveryCatalog.js";
import { call, insertSql, rows, type SqliteContext } from "./deliverySql.js";
import { inboundKeyHolder, takeInboundKeys } from "./inboundKeys.js";

/** The INSERT of a row shape, built once per column list (rows of one table share it). */
function insertStatement(ctx: SqliteContext, table: string, params: Record<string, unknown>) {
  return ctx.sql(insertSql(table, params as Parameters<typeof insertSql>[1]));
}

type BatchPlan = ReturnType<typeof planBatch>;

/**
 * Inside a transaction: decides the batch against what is stored, checking the endpoints.
 * Reads only: when it throws, nothing of the batch was written.
 */
function decideBatch(
  ctx: SqliteContext,
  records: readonly NewMessage[],
  nowIso: string,
): BatchPlan {
  const { sql } = ctx;
  const plan = planBatch(records, nowIso, {
    idempotent: (tenant, key) =>
      (
        sql("SELECT id FROM messages WHERE tenant = ? AND idempotency_key = ?").get(tenant, key) as
          | { id: string }
          | undefined
      )?.id,
    inbound: (source, key) => inboundKeyHolder(ctx, source, key),
  });
  // A batch's deliveries mostly share a few endpoints: each is looked up once.
  const exists = sql("SELECT 1 FROM endpoints WHERE id = ?");
  const known = new Map<string, boolean>();
  assertEndpoints(plan, records.length, (id) => {
    let found = known.get(id);
    if (found === undefined) {
      found = exists.get(id) !== undefined;
      known.set(id, found);
    }
    return found;
  });
  return plan;
}

// The catalogue counts the batch's messages, one UPSERT per distinct type: a type seen for the
// first time gets an `auto` row without a schema; a known one only counts (its declaration and
// updated_at stay). migrations/007_catalog_auto.sql.
const COUNT_TYPE = `INSERT INTO event_types
  (name, auto, first_seen_at, last_seen_at, seen_count, created_at, updated_at)
VALUES (@name, 1, @now, @now, @count, @now, @now)
ON CONFLICT (name) DO UPDATE SET
  seen_count = seen_count + excluded.seen_count,
  first_seen_at = min(coalesce(first_seen_at, excluded.first_seen_at), excluded.first_seen_at),
  last_seen_at = max(coalesce(last_seen_at, excluded.last_seen_at), excluded.last_seen_at)`;

/** Inside the transaction of `decideBatch`: writes its plan. */
function applyBatch(ctx: SqliteContext, plan: BatchPlan, nowIso: string): void {
  let insertMessage: Statement | undefined;
  let insertDelivery: Statement | undefined;
  let insertFiltered: Statement | undefined;
  for (const { records: created } of plan.created) {
    // The payload's JSON text as the caller gave it (or built once), not serialised again.
    const message = rows.messageParams({ ...created.message, payload: null });
    message.payload = payloadJson(created);
    insertMessage ??= insertStatement(ctx, "messages", message);
    insertMessage.run(message);
    for (const d of created.deliveries) {
      const delivery = rows.deliveryParams(d);
      insertDelivery ??= insertStatement(ctx, "deliveries", delivery);
      insertDelivery.run(delivery);
    }
    for (const f of created.filtered) {
      const filtered = rows.filteredParams(f);
      insertFiltered ??= insertStatement(ctx, "message_filtered", filtered);
      insertFiltered.run(filtered);
    }
  }
  takeInboundKeys(ctx, plan.keys);
  if (plan.types.length === 0) return;
  const countType = ctx.sql(COUNT_TYPE);
  const now = rows.time(nowIso);
  for (const { name, count } of plan.types) countType.run({ name, count, now });
}

export function sqliteCreateMessages(
  ctx: SqliteContext,
  clock: Clock,
  messageWithDeliveries: (id: string) => MessageWithDeliveries | undefined,
): DeliveryStore["createMessages"] {
  return (inputs, options) =>
    call(() => {
      // Checked and built before the transaction: the write lock is held for the database only.
      const nowIso = isoNow(clock);
      const records = newBatchRecords(inputs, nowIso, clock);
      if (records.length === 0) return [];
      const expected = options?.endpointsVersion;
      return ctx.immediate(() => {
        if (expected !== undefined) {
          const actual = readEndpointsVersion(ctx, expected.tenant);
          if (actual !== expected.version) {
            throw endpointsVersionChanged(expected.tenant, expected.version, actual);
          }
        }
        const plan = decideBatch(ctx, records, nowIso);
        applyBatch(ctx, plan, nowIso);
        return batchResults(records, plan, (id) => messageWithDeliveries(id)!);
      });
    });
}
