// SQLite createMessages: a whole batch in one IMMEDIATE transaction. The write lock serialises
// writers across connections and processes, so what the batch reads (idempotency and dedupe
// keys, endpoints) still holds when it writes; better-sqlite3 is synchronous, so the batch is
// one db.transaction from the first read to the commit.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../../core/clock.js";
import {
  assertEndpoints,
  batchResults,
  newBatchRecords,
  planBatch,
} from "../delivery/messageBatch.js";
import { isoNow } from "../delivery/time.js";
import type { DeliveryStore, MessageWithDeliveries } from "../deliveryPorts.js";
import { call, insertSql, rows, type SqliteContext } from "./deliverySql.js";
import { inboundKeyHolder, takeInboundKeys } from "./inboundKeys.js";

/** The INSERT of a row shape, built once per column list (rows of one table share it). */
function insertStatement(ctx: SqliteContext, table: string, params: Record<string, unknown>) {
  return ctx.sql(insertSql(table, params as Parameters<typeof insertSql>[1]));
}

export function sqliteCreateMessages(
  ctx: SqliteContext,
  clock: Clock,
  messageWithDeliveries: (id: string) => MessageWithDeliveries | undefined,
): DeliveryStore["createMessages"] {
  const { sql } = ctx;
  return (inputs) =>
    call(() => {
      const nowIso = isoNow(clock);
      const records = newBatchRecords(inputs, nowIso, clock);
      if (records.length === 0) return [];
      return ctx.immediate(() => {
        const plan = planBatch(records, nowIso, {
          idempotent: (tenant, key) =>
            (
              sql("SELECT id FROM messages WHERE tenant = ? AND idempotency_key = ?").get(
                tenant,
                key,
              ) as { id: string } | undefined
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
        let insertMessage: Statement | undefined;
        let insertDelivery: Statement | undefined;
        for (const { records: created } of plan.created) {
          const message = rows.messageParams(created.message);
          insertMessage ??= insertStatement(ctx, "messages", message);
          insertMessage.run(message);
          for (const d of created.deliveries) {
            const delivery = rows.deliveryParams(d);
            insertDelivery ??= insertStatement(ctx, "deliveries", delivery);
            insertDelivery.run(delivery);
          }
        }
        takeInboundKeys(ctx, plan.keys);
        return batchResults(records, plan, (id) => messageWithDeliveries(id)!);
      });
    });
}
