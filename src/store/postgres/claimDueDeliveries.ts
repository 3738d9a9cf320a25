// Leases due deliveries with FOR UPDATE SKIP LOCKED: concurrent workers lock disjoint rows
// instead of waiting on each other, and a row another worker claimed meanwhile is re-checked
// against its new version (now leased, so no longer due) before it could be taken twice.
import type { Clock } from "../../core/clock.js";
import { OPEN_DELIVERY_STATUSES } from "../delivery/constants.js";
import { claimSettings } from "../delivery/lifecycle.js";
import type { Row } from "../delivery/rows.js";
import { inList } from "../delivery/sqlText.js";
import { nowMs } from "../delivery/time.js";
import type { ClaimedDelivery, ClaimOptions } from "../deliveryPorts.js";
import { type PgPool, withTransaction } from "./database.js";
import { pgCall, rows } from "./deliverySql.js";

// Due: open and its time has come (for `delivering`, next_attempt_at is the lease end). An
// ordered endpoint offers only its oldest open delivery. Served by deliveries_due and, for the
// FIFO check, deliveries_fifo (or deliveries_status). `due_at` is the time before the claim, for the order.
const CLAIM = `WITH due AS (
  SELECT d.id, d.next_attempt_at AS due_at
  FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
  WHERE d.status IN (${inList(OPEN_DELIVERY_STATUSES)}) AND d.next_attempt_at <= $1
    AND e.enabled
    AND (NOT e.ordered OR NOT EXISTS (
      SELECT 1 FROM deliveries p
      WHERE p.endpoint_id = d.endpoint_id AND p.status IN (${inList(OPEN_DELIVERY_STATUSES)})
        AND (p.created_at, p.id) < (d.created_at, d.id)))
  ORDER BY d.next_attempt_at, d.id
  LIMIT $2
  FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d
SET status = 'delivering', lease_owner = $3, lease_expires_at = $4, next_attempt_at = $4,
    updated_at = $1
FROM due
WHERE d.id = due.id
RETURNING d.*, due.due_at`;

export async function claimDueDeliveries(
  pool: PgPool,
  clock: Clock,
  options: ClaimOptions,
): Promise<ClaimedDelivery[]> {
  const now = nowMs(clock, options.now);
  const { owner, limit, leaseUntilIso } = claimSettings(options, now);
  return pgCall(() =>
    withTransaction(pool, async (client) => {
      const { rows: claimed } = await client.query<Row & { due_at: Date; id: string }>(CLAIM, [
        new Date(now).toISOString(),
        limit,
        owner,
        leaseUntilIso,
      ]);
      if (claimed.length === 0) return [];
      // RETURNING has no order: restore the claim's.
      claimed.sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || (a.id < b.id ? -1 : 1));
      const leased = claimed.map(rows.delivery);
      // One client runs one query at a time: sequential on purpose.
      const messages = await client.query<Row>(
        "SELECT * FROM messages WHERE id = ANY($1::text[])",
        [[...new Set(leased.map((d) => d.messageId))]],
      );
      const endpoints = await client.query<Row>(
        "SELECT * FROM endpoints WHERE id = ANY($1::text[])",
        [[...new Set(leased.map((d) => d.endpointId))]],
      );
      const messageById = new Map(messages.rows.map((r) => [r.id as string, rows.message(r)]));
      const endpointById = new Map(endpoints.rows.map((r) => [r.id as string, rows.endpoint(r)]));
      return leased.map((delivery) => ({
        delivery,
        message: messageById.get(delivery.messageId)!,
        endpoint: endpointById.get(delivery.endpointId)!,
      }));
    }),
  );
}
