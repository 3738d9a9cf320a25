// Stores a message and its deliveries in one transaction. The idempotency key is settled by
// the unique constraint itself (ON CONFLICT DO NOTHING waits for a concurrent insert of the same
// key to commit), so 20 identical concurrent calls store one message.
import type { Clock } from "../../core/clock.js";
import { HeraldError } from "../../core/errors.js";
import { endpointNotFound } from "../delivery/lifecycle.js";
import { newMessageRecords } from "../delivery/messageRecords.js";
import type { Row } from "../delivery/rows.js";
import type { CreateMessageInput, CreateMessageResult } from "../deliveryPorts.js";
import { type PgPool, withTransaction } from "./database.js";
import { messageWithDeliveries } from "./deliveryQueries.js";
import { insertStatement, pgCall, pgErrorCode, rows } from "./deliverySql.js";
import { notifyDeliveries } from "./deliveryWakeUps.js";

// One parameter for any number of deliveries: the rows as JSON, typed by the table itself.
// Columns are named, so a column added later keeps its DEFAULT instead of receiving NULL.
function insertDeliveries(columns: readonly string[]): string {
  const list = columns.join(", ");
  return `INSERT INTO deliveries (${list})
SELECT ${list} FROM json_populate_recordset(NULL::deliveries, $1::json)`;
}

export async function createMessage(
  pool: PgPool,
  clock: Clock,
  input: CreateMessageInput,
  nowIso: string,
): Promise<CreateMessageResult> {
  const { message, deliveries } = newMessageRecords(input, nowIso, clock);
  return pgCall(() =>
    withTransaction(pool, async (client) => {
      const insert = insertStatement(
        "messages",
        rows.messageParams(message),
        " ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING id",
      );
      if ((await client.query(insert.text, insert.values)).rowCount === 0) {
        // Read committed: this statement sees the row whose commit the insert waited for.
        const { rows: found } = await client.query<{ id: string }>(
          "SELECT id FROM messages WHERE tenant = $1 AND idempotency_key = $2",
          [message.tenant, message.idempotencyKey],
        );
        const existing = found[0] && (await messageWithDeliveries(client, found[0].id));
        if (existing === undefined) {
          // Only a message deleted between the two statements gets here; the caller may retry.
          throw new HeraldError("store.unavailable", "The message holding this key vanished", {
            details: { tenant: message.tenant, idempotencyKey: message.idempotencyKey },
          });
        }
        return { ...existing, created: false };
      }
      const endpointIds = deliveries.map((d) => d.endpointId);
      const { rows: known } = await client.query<{ id: string }>(
        "SELECT id FROM endpoints WHERE id = ANY($1::text[])",
        [endpointIds],
      );
      const knownIds = new Set(known.map((r) => r.id));
      const missing = endpointIds.find((id) => !knownIds.has(id));
      if (missing !== undefined) throw endpointNotFound(missing);
      if (deliveries.length > 0) {
        const params: Row[] = deliveries.map(rows.deliveryParams);
        try {
          await client.query(insertDeliveries(Object.keys(params[0]!)), [JSON.stringify(params)]);
        } catch (error) {
          // An endpoint deleted since the check above: the foreign key has the last word.
          if (pgErrorCode(error) === "23503") throw endpointNotFound(endpointIds.join(", "));
          throw error;
        }
        await notifyDeliveries(client);
      }
      return { message, deliveries, created: true };
    }),
  );
}
