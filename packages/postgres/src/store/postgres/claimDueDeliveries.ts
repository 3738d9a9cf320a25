// Leases due deliveries with FOR UPDATE SKIP LOCKED: concurrent workers lock disjoint rows
// instead of waiting on each other, and a row another worker claimed meanwhile is re-checked
// against its new version (now leased, so no longer due) before it could be taken twice.
// One statement, one round trip, its own transaction: lease the rows and read their messages
// and endpoints in the same snapshot.

import { OPEN_DELIVERY_STATUSES } from "@heraldjs/core/internal/model/constants.js";
import { claimSettings } from "@heraldjs/core/internal/model/lifecycle.js";
import { nowMs } from "@heraldjs/core/internal/model/time.js";
import type {
  ClaimedDelivery,
  ClaimOptions,
  EndpointRecord,
  MessageRecord,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { inList } from "@heraldjs/core/internal/store/sql/sqlText.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { PgPool } from "./database.js";
import { pgCall, rows } from "./deliverySql.js";
import type { LeaseCache } from "./leaseCache.js";

const MESSAGE_COLUMNS = [
  "id",
  "tenant",
  "type",
  "source",
  "payload",
  "idempotency_key",
  "inbound_idempotency_key",
  "created_at",
];
const ENDPOINT_COLUMNS = [
  "id",
  "tenant",
  "description",
  "transport",
  "target",
  "event_types",
  "scheme",
  "scheme_options",
  "secrets",
  "secret_name",
  "adhoc",
  "headers",
  "timeout_ms",
  "retry",
  "rate_limit_per_s",
  "max_in_flight",
  "ordered",
  "enabled",
  "disabled_reason",
  "consecutive_failures",
  "failing_since",
  "created_at",
  "updated_at",
];

// Due: open and its time has come (for `delivering`, next_attempt_at is the lease end). An
// ordered endpoint offers only its oldest open delivery. Served by deliveries_due and, for the
// FIFO check, deliveries_fifo (or deliveries_status). `due_at` is the time before the claim,
// for the order. Each message comes with its delivery; each endpoint's columns only with the
// first of its deliveries (NULL on the others: a claim is mostly one endpoint's).
//
// Written so that the plan stays the cheap one whatever the table statistics say (a table
// seeded a moment ago is not analyzed yet; one analyzed while nearly everything was delivered
// thinks almost nothing is open): the LIMIT is a sub-select, so the planner cannot count on
// reading every due row and walks deliveries_due in order up to the LIMIT instead of sorting
// all due rows; the UPDATE finds the rows by primary key (an array it cannot size), and the
// message and endpoint of each row are read by primary key (LATERAL … OFFSET 0: never a hash
// join over the whole table).
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
  LIMIT (SELECT $2::integer)
  FOR UPDATE OF d SKIP LOCKED
), claimed AS (
  UPDATE deliveries d
  SET status = 'delivering', lease_owner = $3, lease_expires_at = $4, next_attempt_at = $4,
      updated_at = $1
  FROM due
  WHERE d.id = ANY (ARRAY(SELECT id FROM due)) AND d.id = due.id
  RETURNING d.*, due.due_at
), numbered AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.endpoint_id) AS endpoint_row FROM claimed c
)
SELECT c.id, c.message_id, c.endpoint_id, c.status, c.attempts, c.max_attempts,
  c.next_attempt_at, c.lease_owner, c.lease_expires_at, c.last_attempt_at, c.last_error,
  c.last_status_code, c.created_at, c.updated_at, m.*, e.*
FROM numbered c
CROSS JOIN LATERAL (
  SELECT ${MESSAGE_COLUMNS.map((col) => `m.${col} AS m_${col}`).join(", ")}
  FROM messages m WHERE m.id = c.message_id OFFSET 0) m
LEFT JOIN LATERAL (
  SELECT ${ENDPOINT_COLUMNS.map((col) => `e.${col} AS e_${col}`).join(", ")}
  FROM endpoints e WHERE e.id = c.endpoint_id AND c.endpoint_row = 1 OFFSET 0) e ON true
ORDER BY c.due_at, c.id`;

function prefixed(row: Row, prefix: string, columns: readonly string[]): Row {
  const out: Row = {};
  for (const column of columns) out[column] = row[prefix + column];
  return out;
}

export async function claimDueDeliveries(
  pool: PgPool,
  clock: Clock,
  leases: LeaseCache,
  options: ClaimOptions,
): Promise<ClaimedDelivery[]> {
  const now = nowMs(clock, options.now);
  const { owner, limit, leaseUntilIso } = claimSettings(options, now);
  const { rows: claimed } = await pgCall(() =>
    pool.query<Row>({
      name: "herald_claim",
      text: CLAIM,
      values: [new Date(now).toISOString(), limit, owner, leaseUntilIso],
    }),
  );
  const endpoints = new Map<string, EndpointRecord>();
  const messages = new Map<string, MessageRecord>();
  for (const row of claimed) {
    if (row.e_id !== null) {
      endpoints.set(row.e_id as string, rows.endpoint(prefixed(row, "e_", ENDPOINT_COLUMNS)));
    }
  }
  return claimed.map((row) => {
    const delivery = rows.delivery(row);
    leases.set(delivery);
    let message = messages.get(delivery.messageId);
    if (message === undefined) {
      message = rows.message(prefixed(row, "m_", MESSAGE_COLUMNS));
      messages.set(delivery.messageId, message);
    }
    return { delivery, message, endpoint: endpoints.get(delivery.endpointId)! };
  });
}
