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
import type {
  AttemptInput,
  AttemptRecord,
  DeliveryRecord,
  DeliveryTransitions,
} from "../deliveryPorts.js";
import { type PgClient, type PgPool, withTransaction } from "./database.js";
import { pgCall, rows, updateStatement } from "./deliverySql.js";

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

interface GroupedWrite {
  deliveryId: string;
  owner: string;
  nowIso: string;
  change: (delivery: DeliveryRecord, nowIso: string) => DeliveryRecord;
  attempt: AttemptInput | undefined;
  resolve: (result: GuardedResult) => void;
  reject: (error: unknown) => void;
}

/** Most writes in one group commit (the attempts INSERT has 10 parameters per row). */
const MAX_GROUP = 500;

// The columns a lease-guarded transition may change (lifecycle.ts); the rest stay as they are.
const WRITE_BACK = `UPDATE deliveries d SET status = v.status, attempts = v.attempts,
  next_attempt_at = v.next_attempt_at, lease_owner = v.lease_owner,
  lease_expires_at = v.lease_expires_at, last_attempt_at = v.last_attempt_at,
  last_error = v.last_error, last_status_code = v.last_status_code, updated_at = v.updated_at
FROM jsonb_to_recordset($1::jsonb) AS v(id text, status text, attempts integer,
  next_attempt_at timestamptz, lease_owner text, lease_expires_at timestamptz,
  last_attempt_at timestamptz, last_error text, last_status_code integer, updated_at timestamptz)
WHERE d.id = v.id COLLATE "C"`;

/**
 * One transaction for a group of lease-guarded writes: lock all their rows (in id order, so
 * two workers' groups cannot deadlock), check each lease, log the attempts and write the rows
 * back with one statement each. A write whose lease is lost fails alone, before anything of
 * it is written; a database error fails the whole group (nothing of it is committed).
 */
async function commitGroup(
  client: PgClient,
  clock: Clock,
  writes: readonly GroupedWrite[],
): Promise<({ ok: true; value: GuardedResult } | { ok: false; error: unknown })[]> {
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
  const results: ({ ok: true; value: GuardedResult } | { ok: false; error: unknown })[] = [];
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

export function postgresLease(pool: PgPool, clock: Clock): DeliveryTransitions {
  // Group commit: the lease-guarded writes asked for in one turn of the event loop (a worker's
  // sends finish in bursts) share one transaction, answered after its COMMIT — a handful of
  // round trips per burst instead of seven per delivery. A delivery already in the group (a
  // second write for it) waits for the next group, so each group touches a row once.
  let queue: GroupedWrite[] = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  };
  const flush = async () => {
    const group: GroupedWrite[] = [];
    const seen = new Set<string>();
    const rest: GroupedWrite[] = [];
    for (const w of queue) {
      if (group.length < MAX_GROUP && !seen.has(w.deliveryId)) {
        seen.add(w.deliveryId);
        group.push(w);
      } else {
        rest.push(w);
      }
    }
    queue = rest;
    if (rest.length > 0) schedule();
    try {
      const results = await pgCall(() =>
        withTransaction(pool, (client) => commitGroup(client, clock, group)),
      );
      group.forEach((w, i) => {
        const r = results[i]!;
        if (r.ok) w.resolve(r.value);
        else w.reject(r.error);
      });
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  };

  const guarded: Guarded = async (deliveryId, owner, now, change, attempt) => {
    const nowIso = isoNow(clock, now);
    if (typeof deliveryId !== "string") throw deliveryNotFound(deliveryId);
    return new Promise<GuardedResult>((resolve, reject) => {
      queue.push({ deliveryId, owner, nowIso, change, attempt, resolve, reject });
      schedule();
    });
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
