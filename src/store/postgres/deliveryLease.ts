// Lease-guarded transitions, replay and recovery on PostgreSQL. A guarded change locks the
// delivery row (FOR UPDATE), checks the lease with the shared lifecycle rules and writes back
// their result, the attempt log and the endpoint's failure run in the same transaction.
import type { Clock } from "../../core/clock.js";
import { RECOVERABLE_DELIVERY_STATUSES } from "../delivery/constants.js";
import { type Guarded, type GuardedResult, leaseGuardedMethods } from "../delivery/leaseGuarded.js";
import {
  assertLease,
  attempted,
  deliveryNotFound,
  endpointNotFound,
  replayed,
} from "../delivery/lifecycle.js";
import { attemptRecord } from "../delivery/messageRecords.js";
import type { Row } from "../delivery/rows.js";
import { inList } from "../delivery/sqlText.js";
import { isoNow, toIso } from "../delivery/time.js";
import type { AttemptInput, DeliveryRecord, DeliveryTransitions } from "../deliveryPorts.js";
import { type PgClient, type PgPool, withTransaction } from "./database.js";
import { insertStatement, pgCall, rows, updateStatement } from "./deliverySql.js";

// A success on an endpoint that is not failing changes nothing: skipping that update keeps
// busy endpoints' rows free of lock traffic on the happy path.
const HEALTH = `UPDATE endpoints SET
  consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END,
  failing_since = CASE WHEN $2 THEN NULL ELSE COALESCE(failing_since, $3) END
WHERE id = $1 AND NOT ($2 AND consecutive_failures = 0 AND failing_since IS NULL)
RETURNING consecutive_failures, failing_since`;

const RECOVER = `UPDATE deliveries
SET status = 'pending', attempts = 0, next_attempt_at = $3, lease_owner = NULL,
    lease_expires_at = NULL, last_error = NULL, last_status_code = NULL, updated_at = $3
WHERE endpoint_id = $1 AND created_at >= $2
  AND status IN (${inList(RECOVERABLE_DELIVERY_STATUSES)})`;

async function lockDelivery(client: PgClient, id: string): Promise<DeliveryRecord | undefined> {
  const { rows: found } = await client.query<Row>(
    "SELECT * FROM deliveries WHERE id = $1 FOR UPDATE",
    [id],
  );
  return found[0] === undefined ? undefined : rows.delivery(found[0]);
}

async function writeDelivery(client: PgClient, delivery: DeliveryRecord): Promise<void> {
  const update = updateStatement("deliveries", rows.deliveryParams(delivery), "id");
  await client.query(update.text, update.values);
}

async function logAttempt(
  client: PgClient,
  clock: Clock,
  current: DeliveryRecord,
  input: AttemptInput,
): Promise<Required<Omit<GuardedResult, "delivery">>> {
  // The delivery row is locked, so no other attempt of it can take this number meanwhile.
  const { rows: numbered } = await client.query<{ n: number }>(
    "SELECT COALESCE(MAX(attempt_number), 0) + 1 AS n FROM attempts WHERE delivery_id = $1",
    [current.id],
  );
  const attempt = attemptRecord(input, current.id, numbered[0]!.n, clock);
  const insert = insertStatement("attempts", rows.attemptParams(attempt));
  await client.query(insert.text, insert.values);
  const { rows: health } = await client.query<Row>(HEALTH, [
    current.endpointId,
    attempt.succeeded,
    attempt.startedAt,
  ]);
  return {
    attempt,
    health:
      health[0] === undefined
        ? { consecutiveFailures: 0, failingSince: null }
        : {
            consecutiveFailures: health[0].consecutive_failures as number,
            failingSince:
              health[0].failing_since === null ? null : rows.fromTime(health[0].failing_since),
          },
  };
}

export function postgresLease(pool: PgPool, clock: Clock): DeliveryTransitions {
  const guarded: Guarded = async (deliveryId, owner, now, change, attempt) => {
    const nowIso = isoNow(clock, now);
    return pgCall(() =>
      withTransaction(pool, async (client) => {
        const current = await lockDelivery(client, deliveryId);
        assertLease(current, deliveryId, owner, nowIso);
        let next = current;
        let logged: Omit<GuardedResult, "delivery"> = {};
        if (attempt !== undefined) {
          logged = await logAttempt(client, clock, current, attempt);
          next = attempted(next, logged.attempt!, nowIso);
        }
        next = change(next, nowIso);
        await writeDelivery(client, next);
        return { ...logged, delivery: next };
      }),
    );
  };

  return {
    ...leaseGuardedMethods(guarded, clock),

    async replayDelivery(id, options = {}) {
      const nowIso = isoNow(clock, options.now);
      return pgCall(() =>
        withTransaction(pool, async (client) => {
          const current = await lockDelivery(client, id);
          if (current === undefined) throw deliveryNotFound(id);
          const next = replayed(current, nowIso);
          await writeDelivery(client, next);
          return next;
        }),
      );
    },

    async recoverEndpoint({ endpointId, since, now }) {
      const sinceIso = toIso(since, "since", "query.invalid");
      const nowIso = isoNow(clock, now);
      return pgCall(async () => {
        const { rowCount } = await pool.query("SELECT 1 FROM endpoints WHERE id = $1", [
          endpointId,
        ]);
        if (rowCount === 0) throw endpointNotFound(endpointId);
        const result = await pool.query(RECOVER, [endpointId, sinceIso, nowIso]);
        return { replayed: result.rowCount ?? 0 };
      });
    },
  };
}
