// Lease-guarded transitions, replay and recovery on PostgreSQL. A guarded change locks the
// delivery row (FOR UPDATE), checks the lease with the shared lifecycle rules and writes back
// their result, the attempt log and the endpoint's failure run in the same transaction.
import type { Settled } from "@heraldjs/core/internal/core/batcher.js";
import { RECOVERABLE_DELIVERY_STATUSES } from "@heraldjs/core/internal/model/constants.js";
import {
  assertLease,
  attempted,
  deliveryNotFound,
  endpointNotFound,
  holdsLease,
  replayed,
} from "@heraldjs/core/internal/model/lifecycle.js";
import { attemptRecord } from "@heraldjs/core/internal/model/messageRecords.js";
import { isoNow, toIso } from "@heraldjs/core/internal/model/time.js";
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryTransitions,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Row } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import {
  batchedGuarded,
  type GuardedResult,
  type GuardedWrite,
  leaseGuardedMethods,
} from "@heraldjs/core/internal/store/sql/leaseGuarded.js";
import { inList } from "@heraldjs/core/internal/store/sql/sqlText.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { type PgClient, type PgPool, withTransaction } from "./database.js";
import { pgCall, rows, updateStatement } from "./deliverySql.js";
import type { LeaseCache } from "./leaseCache.js";
import { NOTIFY_DELIVERIES } from "./wakeUpTurns.js";

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

/** Most writes in one group commit (the attempts INSERT has 10 parameters per row). */
const MAX_GROUP = 500;

// The columns a lease-guarded transition may change (lifecycle.ts); the rest stay as they are.
const WRITE_BACK = `UPDATE deliveries d SET status = v.status, attempts = v.attempts,
  next_attempt_at = v.next_attempt_at, lease_owner = v.lease_owner,
  lease_expires_at = v.lease_expires_at, last_attempt_at = v.last_attempt_at,
  last_error = v.last_error, last_status_code = v.last_status_code, updated_at = v.updated_at
FROM json_to_recordset($1::json) AS v(id text, status text, attempts integer,
  next_attempt_at timestamptz, lease_owner text, lease_expires_at timestamptz,
  last_attempt_at timestamptz, last_error text, last_status_code integer, updated_at timestamptz)
WHERE d.id = v.id COLLATE "C"`;

// The fast path of a group: one statement, its own transaction. It locks the rows (id order),
// and writes back a delivery only if the row still equals the record this store last saw
// (its claim or its last write: LeaseCache) and the lease is live, checked in the UPDATE's own
// WHERE (re-evaluated on the latest row version under the lock); the attempt is logged only
// for a delivery so written, numbered after every earlier attempt. Successes reset the
// endpoint's failure run once every delivery of the group is written. Writes whose row
// differed (or is gone) are not written at all: the slow path (commitGroup) takes them.
// The rows are found by primary key whatever the statistics say (an array the planner cannot
// size; the lease check wrapped in IS TRUE so that it is never taken for an index condition on
// deliveries_status, a walk over every leased row).
const FAST_WRITE = `WITH v AS (
  SELECT * FROM json_to_recordset($1::json) AS v(id text, owner text, now timestamptz,
    o_status text, o_attempts integer, o_max_attempts integer, o_next_attempt_at timestamptz,
    o_lease_owner text, o_lease_expires_at timestamptz, o_last_attempt_at timestamptz,
    o_last_error text, o_last_status_code integer, o_updated_at timestamptz,
    status text, attempts integer, next_attempt_at timestamptz, lease_owner text,
    lease_expires_at timestamptz, last_attempt_at timestamptz, last_error text,
    last_status_code integer, updated_at timestamptz)
), locked AS (
  SELECT d.id FROM deliveries d WHERE d.id = ANY (ARRAY(SELECT unnest($3::text[])))
  ORDER BY d.id FOR UPDATE
), written AS (
  UPDATE deliveries d SET status = v.status, attempts = v.attempts,
    next_attempt_at = v.next_attempt_at, lease_owner = v.lease_owner,
    lease_expires_at = v.lease_expires_at, last_attempt_at = v.last_attempt_at,
    last_error = v.last_error, last_status_code = v.last_status_code, updated_at = v.updated_at
  FROM v
  WHERE d.id = ANY (ARRAY(SELECT id FROM locked)) AND d.id = v.id
    AND (d.status = 'delivering' AND d.lease_owner = v.owner AND d.lease_expires_at > v.now) IS TRUE
    AND (d.status, d.attempts, d.max_attempts, d.next_attempt_at, d.lease_owner,
      d.lease_expires_at, d.last_attempt_at, d.last_error, d.last_status_code, d.updated_at)
    IS NOT DISTINCT FROM (v.o_status, v.o_attempts, v.o_max_attempts, v.o_next_attempt_at,
      v.o_lease_owner, v.o_lease_expires_at, v.o_last_attempt_at, v.o_last_error,
      v.o_last_status_code, v.o_updated_at)
  RETURNING d.id, d.endpoint_id
), logged AS (
  INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms, succeeded,
    status_code, response_headers, response_body, error)
  SELECT a.id, w.id,
    COALESCE((SELECT max(x.attempt_number) FROM attempts x WHERE x.delivery_id = w.id), 0) + 1,
    a.started_at, a.duration_ms, a.succeeded, a.status_code, a.response_headers,
    a.response_body, a.error
  FROM json_to_recordset($2::json) AS a(id text, delivery_id text, started_at timestamptz,
    duration_ms integer, succeeded boolean, status_code integer, response_headers jsonb,
    response_body text, error text)
  JOIN written w ON w.id = a.delivery_id
  RETURNING delivery_id, attempt_number
), healthy AS (
  UPDATE endpoints e SET consecutive_failures = 0, failing_since = NULL
  FROM (SELECT array_agg(DISTINCT w.endpoint_id) AS ids
        FROM written w JOIN logged l ON l.delivery_id = w.id) r
  WHERE e.id = ANY(r.ids) AND (e.consecutive_failures <> 0 OR e.failing_since IS NOT NULL)
)
SELECT w.id, l.attempt_number FROM written w LEFT JOIN logged l ON l.delivery_id = w.id`;

type Outcome = Settled<GuardedResult>;

/** A write the fast path can take: its row as last seen, its new state and attempt. */
interface FastWrite {
  index: number;
  current: DeliveryRecord;
  next: DeliveryRecord;
  record: AttemptRecord | undefined;
}

/**
 * Runs the writes of `writes` that the fast path can take; the outcome of each one it wrote,
 * `undefined` for the rest (not tried, or their row was not as last seen: the slow path's).
 */
async function commitFast(
  pool: PgPool,
  clock: Clock,
  leases: LeaseCache,
  writes: readonly GuardedWrite[],
): Promise<(Outcome | undefined)[]> {
  const outcomes: (Outcome | undefined)[] = writes.map(() => undefined);
  const candidates: FastWrite[] = [];
  // Endpoints with a failed attempt in this group: their failure run is counted attempt by
  // attempt on the slow path, so their attempts all go there, in order.
  const failing = new Set<string>();
  writes.forEach((w, index) => {
    const current = leases.get(w.deliveryId);
    if (current === undefined || !holdsLease(current, w.owner, w.nowIso)) return;
    try {
      // The number is the database's (RETURNING): every earlier attempt counts.
      const record =
        w.attempt === undefined ? undefined : attemptRecord(w.attempt, w.deliveryId, 1, clock);
      const next =
        record === undefined
          ? w.change(current, w.nowIso)
          : w.change(attempted(current, record, w.nowIso), w.nowIso);
      if (record !== undefined && !record.succeeded) failing.add(current.endpointId);
      candidates.push({ index, current, next, record });
    } catch {
      // Invalid input: the slow path reports it, after the lease check, as it always did.
    }
  });
  const fast = candidates.filter(
    (c) => c.record === undefined || !failing.has(c.current.endpointId),
  );
  if (fast.length === 0) return outcomes;
  const deliveries = fast.map(({ index, current: o, next: n }) => ({
    id: o.id,
    owner: writes[index]!.owner,
    now: writes[index]!.nowIso,
    o_status: o.status,
    o_attempts: o.attempts,
    o_max_attempts: o.maxAttempts,
    o_next_attempt_at: o.nextAttemptAt,
    o_lease_owner: o.leaseOwner,
    o_lease_expires_at: o.leaseExpiresAt,
    o_last_attempt_at: o.lastAttemptAt,
    o_last_error: o.lastError,
    o_last_status_code: o.lastStatusCode,
    o_updated_at: o.updatedAt,
    status: n.status,
    attempts: n.attempts,
    next_attempt_at: n.nextAttemptAt,
    lease_owner: n.leaseOwner,
    lease_expires_at: n.leaseExpiresAt,
    last_attempt_at: n.lastAttemptAt,
    last_error: n.lastError,
    last_status_code: n.lastStatusCode,
    updated_at: n.updatedAt,
  }));
  const attempts = fast.flatMap(({ record: a }) =>
    a === undefined
      ? []
      : [
          {
            id: a.id,
            delivery_id: a.deliveryId,
            started_at: a.startedAt,
            duration_ms: a.durationMs,
            succeeded: a.succeeded,
            status_code: a.statusCode,
            response_headers: a.responseHeaders,
            response_body: a.responseBody,
            error: a.error,
          },
        ],
  );
  const { rows: written } = await pool.query<{ id: string; attempt_number: number | null }>({
    name: "herald_lease_write",
    text: FAST_WRITE,
    values: [JSON.stringify(deliveries), JSON.stringify(attempts), fast.map((f) => f.current.id)],
  });
  const numbers = new Map(written.map((r) => [r.id, r.attempt_number]));
  for (const { index, next, record } of fast) {
    if (!numbers.has(next.id)) continue;
    const value: GuardedResult = { delivery: next };
    if (record !== undefined) {
      value.attempt = { ...record, number: numbers.get(next.id)! };
      value.health = { consecutiveFailures: 0, failingSince: null };
    }
    outcomes[index] = { ok: true, value };
  }
  return outcomes;
}

/**
 * One transaction for a group of lease-guarded writes: lock all their rows (in id order, so
 * two workers' groups cannot deadlock), check each lease, log the attempts and write the rows
 * back with one statement each. A write whose lease is lost fails alone, before anything of
 * it is written; a database error fails the whole group (nothing of it is committed).
 */
async function commitGroup(
  client: PgClient,
  clock: Clock,
  writes: readonly GuardedWrite[],
): Promise<Outcome[]> {
  const ids = writes.map((w) => w.deliveryId);
  const { rows: locked } = await client.query<Row>(
    "SELECT * FROM deliveries WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
    [ids],
  );
  const byId = new Map(locked.map((r) => [r.id as string, rows.delivery(r)]));
  const outcomes = writes.map((w) => {
    try {
      const current = byId.get(w.deliveryId);
      assertLease(current, w.deliveryId, w.owner, w.nowIso);
      return { ok: true as const, current };
    } catch (error) {
      return { ok: false as const, error };
    }
  });
  const withAttempt = writes.flatMap((w, i) => {
    const o = outcomes[i]!;
    return o.ok && w.attempt !== undefined ? [{ w, i, current: o.current }] : [];
  });
  const attempts = new Map<number, AttemptRecord>();
  const changes = new Map<number, DeliveryRecord>();
  const health = new Map<number, { consecutiveFailures: number; failingSince: string | null }>();
  if (withAttempt.length > 0) {
    const { rows: numbers } = await client.query<{ delivery_id: string; n: number }>(
      `SELECT delivery_id, MAX(attempt_number) + 1 AS n FROM attempts
       WHERE delivery_id = ANY($1::text[]) GROUP BY delivery_id`,
      [withAttempt.map((a) => a.w.deliveryId)],
    );
    const next = new Map(numbers.map((r) => [r.delivery_id, r.n]));
    const values: unknown[] = [];
    const tuples: string[] = [];
    let columns: string[] = [];
    for (const { w, i, current } of withAttempt) {
      try {
        const record = attemptRecord(w.attempt!, w.deliveryId, next.get(w.deliveryId) ?? 1, clock);
        // The new state first: a write whose change throws logs no attempt either.
        changes.set(i, w.change(attempted(current, record, w.nowIso), w.nowIso));
        const params = rows.attemptParams(record);
        columns = Object.keys(params);
        tuples.push(`(${columns.map((c) => `$${values.push(params[c])}`).join(", ")})`);
        attempts.set(i, record);
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    }
    if (tuples.length > 0) {
      await client.query(
        `INSERT INTO attempts (${columns.join(", ")}) VALUES ${tuples.join(", ")}`,
        values,
      );
    }
    // The endpoint's failure run, attempt by attempt in the order they were asked for; a run of
    // successes on a healthy endpoint is one statement that changes nothing.
    const byEndpoint = new Map<string, number[]>();
    for (const [i] of attempts) {
      const endpointId = (outcomes[i] as { current: DeliveryRecord }).current.endpointId;
      byEndpoint.set(endpointId, [...(byEndpoint.get(endpointId) ?? []), i]);
    }
    for (const [endpointId, indexes] of byEndpoint) {
      const allOk = indexes.every((i) => attempts.get(i)!.succeeded);
      for (const i of allOk ? indexes.slice(-1) : indexes) {
        const record = attempts.get(i)!;
        const { rows: run } = await client.query<Row>(HEALTH, [
          endpointId,
          record.succeeded,
          record.startedAt,
        ]);
        health.set(
          i,
          run[0] === undefined
            ? { consecutiveFailures: 0, failingSince: null }
            : {
                consecutiveFailures: run[0].consecutive_failures as number,
                failingSince:
                  run[0].failing_since === null ? null : rows.fromTime(run[0].failing_since),
              },
        );
      }
      if (allOk) for (const i of indexes) health.set(i, health.get(indexes.at(-1)!)!);
    }
  }
  const results: Outcome[] = [];
  const changed: Row[] = [];
  writes.forEach((w, i) => {
    const o = outcomes[i]!;
    if (!o.ok) {
      results.push(o);
      return;
    }
    try {
      const record = attempts.get(i);
      const next = changes.get(i) ?? w.change(o.current, w.nowIso);
      const p = rows.deliveryParams(next);
      changed.push({
        id: p.id,
        status: p.status,
        attempts: p.attempts,
        next_attempt_at: p.next_attempt_at,
        lease_owner: p.lease_owner,
        lease_expires_at: p.lease_expires_at,
        last_attempt_at: p.last_attempt_at,
        last_error: p.last_error,
        last_status_code: p.last_status_code,
        updated_at: p.updated_at,
      });
      const value: GuardedResult = { delivery: next };
      if (record !== undefined) {
        value.attempt = record;
        value.health = health.get(i)!;
      }
      results.push({ ok: true, value });
    } catch (error) {
      results.push({ ok: false, error });
    }
  });
  if (changed.length > 0) await client.query(WRITE_BACK, [JSON.stringify(changed)]);
  return results;
}

/**
 * A group of lease-guarded writes: the fast path first, the slow path (one transaction) for the
 * writes it did not take. A database error fails every write of the statement that hit it
 * (nothing of it is committed; the leases run out and the deliveries are sent again).
 */
async function applyGroup(
  pool: PgPool,
  clock: Clock,
  leases: LeaseCache,
  group: readonly GuardedWrite[],
): Promise<Outcome[]> {
  const answered: Outcome[] = [];
  const settle = (i: number, r: Outcome) => {
    if (r.ok) leases.set(r.value.delivery);
    else leases.delete(group[i]!.deliveryId);
    answered[i] = r;
  };
  let outcomes: (Outcome | undefined)[];
  try {
    outcomes = await pgCall(() => commitFast(pool, clock, leases, group));
  } catch (error) {
    for (let i = 0; i < group.length; i++) settle(i, { ok: false, error });
    return answered;
  }
  const slow: number[] = [];
  outcomes.forEach((r, i) => {
    if (r === undefined) slow.push(i);
    else settle(i, r);
  });
  if (slow.length === 0) return answered;
  try {
    const writes = slow.map((i) => group[i]!);
    const results = await pgCall(() =>
      withTransaction(pool, (client) => commitGroup(client, clock, writes)),
    );
    for (const [j, i] of slow.entries()) settle(i, results[j]!);
  } catch (error) {
    for (const i of slow) settle(i, { ok: false, error });
  }
  return answered;
}

export function postgresLease(pool: PgPool, clock: Clock, leases: LeaseCache): DeliveryTransitions {
  // Group commit (../../core/batcher.ts): a handful of round trips per burst of a worker's
  // results instead of seven per delivery. A delivery already in a group (a second write for
  // it) waits for the next group, so each group touches a row once; groups are not capped in
  // number (each takes a connection of the pool).
  const guarded = batchedGuarded((group) => applyGroup(pool, clock, leases, group), clock, {
    maxBatch: MAX_GROUP,
    maxConcurrent: Number.POSITIVE_INFINITY,
    key: (w) => w.deliveryId,
  });

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
          await client.query(NOTIFY_DELIVERIES);
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
        const replayedCount = result.rowCount ?? 0;
        if (replayedCount > 0) await pool.query(NOTIFY_DELIVERIES);
        return { replayed: replayedCount };
      });
    },
  };
}
