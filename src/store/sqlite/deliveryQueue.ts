// SQLite writes of the delivery queue after a message is stored (createMessages.ts): claims,
// lease-guarded transitions, replay and recovery. Each runs in one IMMEDIATE transaction, so the write lock
// makes it atomic across connections and processes (SQLite has one writer at a time).
import type { Clock } from "../../core/clock.js";
import { OPEN_DELIVERY_STATUSES, RECOVERABLE_DELIVERY_STATUSES } from "../delivery/constants.js";
import { type Guarded, type GuardedResult, leaseGuardedMethods } from "../delivery/leaseGuarded.js";
import {
  assertLease,
  attempted,
  claimSettings,
  deliveryNotFound,
  endpointNotFound,
  replayed,
} from "../delivery/lifecycle.js";
import { attemptRecord } from "../delivery/messageRecords.js";
import type { Row } from "../delivery/rows.js";
import { inList } from "../delivery/sqlText.js";
import { isoNow, nowMs, toIso } from "../delivery/time.js";
import type { DeliveryRecord, DeliveryStore, DeliveryTransitions } from "../deliveryPorts.js";
import { call, insertSql, rows, type SqliteContext, updateSql } from "./deliverySql.js";

interface GroupedWrite {
  run: () => GuardedResult;
  resolve: (result: GuardedResult) => void;
  fail: (error: unknown) => void;
}

export type QueueMethods = Pick<DeliveryStore, "claimDueDeliveries"> & DeliveryTransitions;

// Due: open and its time has come (for `delivering`, next_attempt_at is the lease end). An
// ordered endpoint offers only its oldest open delivery. Served by deliveries_due and, for the
// FIFO check, deliveries_fifo. INDEXED BY: without ANALYZE statistics (the usual case for an
// embedded file) SQLite would rather sort the status index, reading every due row per claim.
// Selected first, so the claim keeps this order (RETURNING has none).
const DUE = `SELECT d.id FROM deliveries d INDEXED BY deliveries_due
JOIN endpoints e ON e.id = d.endpoint_id
WHERE d.status IN (${inList(OPEN_DELIVERY_STATUSES)}) AND d.next_attempt_at <= @now
  AND e.enabled = 1
  AND (e.ordered = 0 OR NOT EXISTS (
    SELECT 1 FROM deliveries p
    WHERE p.endpoint_id = d.endpoint_id AND p.status IN (${inList(OPEN_DELIVERY_STATUSES)})
      AND (p.created_at < d.created_at OR (p.created_at = d.created_at AND p.id < d.id))))
ORDER BY d.next_attempt_at, d.id
LIMIT @limit`;

const CLAIM = `UPDATE deliveries
SET status = 'delivering', lease_owner = @owner, lease_expires_at = @until,
    next_attempt_at = @until, updated_at = @now
WHERE id IN (SELECT value FROM json_each(@ids))
RETURNING *`;

// A success on an endpoint that is not failing changes nothing: no write, no row returned.
const HEALTH = `UPDATE endpoints SET
  consecutive_failures = CASE WHEN @ok = 1 THEN 0 ELSE consecutive_failures + 1 END,
  failing_since = CASE WHEN @ok = 1 THEN NULL ELSE COALESCE(failing_since, @started) END
WHERE id = @id AND NOT (@ok = 1 AND consecutive_failures = 0 AND failing_since IS NULL)
RETURNING consecutive_failures, failing_since`;

const RECOVER = `UPDATE deliveries
SET status = 'pending', attempts = 0, next_attempt_at = @now, lease_owner = NULL,
    lease_expires_at = NULL, last_error = NULL, last_status_code = NULL, updated_at = @now
WHERE endpoint_id = @endpoint AND created_at >= @since
  AND status IN (${inList(RECOVERABLE_DELIVERY_STATUSES)})`;

export function sqliteQueue(ctx: SqliteContext, clock: Clock): QueueMethods {
  const { sql } = ctx;
  const selectDelivery = (id: string) =>
    sql("SELECT * FROM deliveries WHERE id = ?").get(id) as Row | undefined;
  const writeDelivery = (d: DeliveryRecord) => {
    const params = rows.deliveryParams(d);
    sql(updateSql("deliveries", params, "id")).run(params);
  };
  /**
   * Writes only the columns that changed: SQLite rewrites the entry of every index whose
   * columns are in the SET list, changed or not, and `deliveries` has six indexes.
   */
  const writeChanges = (before: Row, d: DeliveryRecord) => {
    const params = rows.deliveryParams(d);
    const changed: Row = { id: params.id };
    for (const column of Object.keys(params)) {
      if (params[column] !== before[column]) changed[column] = params[column];
    }
    if (Object.keys(changed).length > 1) sql(updateSql("deliveries", changed, "id")).run(changed);
  };

  /** Lease check, optional attempt log, status change: one savepoint of a group commit. */
  const apply = (
    deliveryId: string,
    owner: string,
    nowIso: string,
    change: (delivery: DeliveryRecord, nowIso: string) => DeliveryRecord,
    attempt: Parameters<Guarded>[4],
  ): GuardedResult => {
    const row = typeof deliveryId === "string" ? selectDelivery(deliveryId) : undefined;
    const current = row === undefined ? undefined : rows.delivery(row);
    assertLease(current, deliveryId, owner, nowIso);
    let next = current;
    const result: Omit<GuardedResult, "delivery"> = {};
    if (attempt !== undefined) {
      const { n } = sql(
        "SELECT COALESCE(MAX(attempt_number), 0) + 1 AS n FROM attempts WHERE delivery_id = ?",
      ).get(deliveryId) as { n: number };
      const record = attemptRecord(attempt, deliveryId, n, clock);
      const params = rows.attemptParams(record);
      sql(insertSql("attempts", params)).run(params);
      const health = sql(HEALTH).get({
        ok: record.succeeded ? 1 : 0,
        started: Date.parse(record.startedAt),
        id: current.endpointId,
      }) as { consecutive_failures: number; failing_since: number | null } | undefined;
      result.attempt = record;
      result.health = {
        consecutiveFailures: health?.consecutive_failures ?? 0,
        failingSince:
          health?.failing_since == null ? null : new Date(health.failing_since).toISOString(),
      };
      next = attempted(next, record, nowIso);
    }
    next = change(next, nowIso);
    writeChanges(row!, next);
    return { ...result, delivery: next };
  };

  // Group commit: the lease-guarded writes asked for in one turn of the event loop (a worker's
  // sends finish in bursts) share one IMMEDIATE transaction, each in its own savepoint, so
  // one lost lease undoes only its own change. Every caller is answered after the COMMIT (and
  // its fsync, at synchronous=FULL): the same durability as one transaction each, for one
  // commit per burst instead of one per delivery.
  let batch: GroupedWrite[] = [];
  let committedThisTurn = false;
  const flush = () => {
    const writes = batch;
    batch = [];
    const outcomes: ({ ok: true; value: GuardedResult } | { ok: false; error: unknown })[] = [];
    try {
      ctx.immediate(() => {
        for (const write of writes) {
          try {
            outcomes.push({ ok: true, value: ctx.db.transaction(write.run)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const write of writes) write.fail(error);
      return;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.fail(outcome.error);
    });
  };

  const guarded: Guarded = (deliveryId, owner, now, change, attempt) => {
    let nowIso: string;
    try {
      nowIso = isoNow(clock, now);
    } catch (error) {
      return call(() => {
        throw error;
      });
    }
    return new Promise<GuardedResult>((resolve, reject) => {
      if (batch.length === 0) {
        // The first write of a turn commits at once (after the current callback), as a lone
        // write always did; the writes that follow in the same turn wait for its end and
        // commit together.
        if (committedThisTurn) setImmediate(flush);
        else {
          committedThisTurn = true;
          queueMicrotask(flush);
          setImmediate(() => {
            committedThisTurn = false;
          });
        }
      }
      batch.push({
        run: () => apply(deliveryId, owner, nowIso, change, attempt),
        resolve,
        // The same translation as every other store call (SQLITE_BUSY → store.unavailable).
        fail: (error) =>
          void call(() => {
            throw error;
          }).catch(reject),
      });
    });
  };

  return {
    claimDueDeliveries: (options) =>
      call(() => {
        const now = nowMs(clock, options.now);
        const { owner, limit, leaseUntilIso } = claimSettings(options, now);
        return ctx.immediate(() => {
          const due = (sql(DUE).all({ now, limit }) as { id: string }[]).map((r) => r.id);
          if (due.length === 0) return [];
          const claimed = sql(CLAIM).all({
            owner,
            now,
            until: Date.parse(leaseUntilIso),
            ids: JSON.stringify(due),
          }) as Row[];
          const byId = new Map(claimed.map((r) => [r.id as string, rows.delivery(r)]));
          const leased = due.map((id) => byId.get(id)!);
          const ids = (field: "messageId" | "endpointId") =>
            JSON.stringify([...new Set(leased.map((d) => d[field]))]);
          const messages = new Map(
            (
              sql("SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))").all(
                ids("messageId"),
              ) as Row[]
            ).map((r) => [r.id as string, rows.message(r)]),
          );
          const endpoints = new Map(
            (
              sql("SELECT * FROM endpoints WHERE id IN (SELECT value FROM json_each(?))").all(
                ids("endpointId"),
              ) as Row[]
            ).map((r) => [r.id as string, rows.endpoint(r)]),
          );
          return leased.map((delivery) => ({
            delivery,
            message: messages.get(delivery.messageId)!,
            endpoint: endpoints.get(delivery.endpointId)!,
          }));
        });
      }),

    ...leaseGuardedMethods(guarded, clock),

    replayDelivery: (id, options = {}) =>
      call(() => {
        const nowIso = isoNow(clock, options.now);
        return ctx.immediate(() => {
          const row = typeof id === "string" ? selectDelivery(id) : undefined;
          if (row === undefined) throw deliveryNotFound(id);
          const next = replayed(rows.delivery(row), nowIso);
          writeDelivery(next);
          return next;
        });
      }),

    recoverEndpoint: ({ endpointId, since, now }) =>
      call(() => {
        const sinceMs = Date.parse(toIso(since, "since", "query.invalid"));
        const at = nowMs(clock, now);
        return ctx.immediate(() => {
          if (sql("SELECT 1 FROM endpoints WHERE id = ?").get(endpointId) === undefined) {
            throw endpointNotFound(endpointId);
          }
          const { changes } = sql(RECOVER).run({ endpoint: endpointId, since: sinceMs, now: at });
          return { replayed: changes };
        });
      }),
  };
}
