// SQLite createMessages: a whole batch in one IMMEDIATE transaction. The write lock serialises
// writers across connections and processes, so what the batch reads (idempotency and dedupe
// keys, endpoints) still holds when it writes; better-sqlite3 is synchronous, so the batch is
// one db.transaction from the first read to the commit.
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
        const exists = sql("SELECT 1 FROM endpoints WHERE id = ?");
        assertEndpoints(plan, records.length, (id) => exists.get(id) !== undefined);
        for (const { records: created } of plan.created) {
          const message = rows.messageParams(created.message);
          sql(insertSql("messages", message)).run(message);
          for (const d of created.deliveries) {
            const delivery = rows.deliveryParams(d);
            sql(insertSql("deliveries", delivery)).run(delivery);
          }
        }
        takeInboundKeys(ctx, plan.keys);
        return batchResults(records, plan, (id) => messageWithDeliveries(id)!);
      });
    });
}
