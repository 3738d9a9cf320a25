// SQLite writes of the delivery queue after a message is stored (createMessages.ts): claims,
// lease-guarded transitions, replay and recovery. Each runs in one IMMEDIATE transaction, so the write lock
// makes it atomic across connections and processes (SQLite has one writer at a time).

import type { Settled } from "@heraldjs/core/internal/core/batcher.js";
import {
  OPEN_DELIVERY_STATUSES,
  RECOVERABLE_DELIVERY_STATUSES,
} from "@heraldjs/core/internal/model/constants.js";
import {
  assertLease,
  attempted,
  claimSettings,
  deliveryNotFound,
  endpointNotFound,
  replayed,
} from "@heraldjs/core/internal/model/lifecycle.js";
import { attemptRecord } from "@heraldjs/core/internal/model/messageRecords.js";
import { isoNow, nowMs, toIso } from "@heraldjs/core/internal/model/time.js";
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStore,
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
import type { Statement } from "better-sqlite3";
import { limitOf } from "./database.js";
import { call, rows, type SqliteContext, updateSql } from "./deliverySql.js";

/** A grouped write checked and computed, nothing written yet. */
interface PlannedWrite {
  current: DeliveryRecord;
  next: DeliveryRecord;
  attempt: AttemptRecord | undefined;
}

type Outcome = Settled<GuardedResult>;

/** Thrown out of a group's fast path (no savepoints) when a write failed half-way. */
class HalfWritten extends Error {}

// The delivery's columns the lifecycle can change, with their record fields; `time` columns
// hold Unix ms. The write-back sets only those that changed (see writeChanges).
const CHANGEABLE: readonly { field: keyof DeliveryRecord; column: string; time: boolean }[] = [
  { field: "status", column: "status", time: false },
  { field: "attempts", column: "attempts", time: false },
  { field: "maxAttempts", column: "max_attempts", time: false },
  { field: "nextAttemptAt", column: "next_attempt_at", time: true },
  { field: "leaseOwner", column: "lease_owner", time: false },
  { field: "leaseExpiresAt", column: "lease_expires_at", time: true },
  { field: "lastAttemptAt", column: "last_attempt_at", time: true },
  { field: "lastError", column: "last_error", time: false },
  { field: "lastStatusCode", column: "last_status_code", time: false },
  { field: "updatedAt", column: "updated_at", time: true },
];

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
LIMIT ${limitOf("@limit")}`;

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

// The delivery with the number its next attempt gets: after every attempt logged so far, also
// those before a replay (which resets `attempts`). Served by the attempts (delivery_id,
// attempt_number) unique index.
const SELECT_WITH_NEXT_ATTEMPT = `SELECT d.*,
  (SELECT COALESCE(MAX(a.attempt_number), 0) + 1 FROM attempts a WHERE a.delivery_id = d.id)
    AS next_attempt
FROM deliveries d WHERE d.id = ?`;

const INSERT_ATTEMPT = `INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms,
  succeeded, status_code, response_headers, response_body, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

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

  // Unix ms of an ISO time; the writes of a group share their `now`, so remember the last one.
  let lastIso = "";
  let lastMs = 0;
  const ms = (iso: string | null): number | null => {
    if (iso === null) return null;
    if (iso !== lastIso) {
      lastMs = Date.parse(iso);
      lastIso = iso;
    }
    return lastMs;
  };

  /** Write-back statements by the set of changed columns (a bit per CHANGEABLE entry). */
  const updates = new Map<number, Statement<unknown[], unknown>>();
  /**
   * Writes only the columns that changed: SQLite rewrites the entry of every index whose
   * columns are in the SET list, changed or not, and `deliveries` has six indexes.
   */
  const writeChanges = (before: DeliveryRecord, d: DeliveryRecord) => {
    let mask = 0;
    const params: Row = { id: d.id };
    for (let i = 0; i < CHANGEABLE.length; i++) {
      const { field, column, time } = CHANGEABLE[i]!;
      const value = d[field];
      if (value === before[field]) continue;
      mask |= 1 << i;
      params[column] = time ? ms(value as string | null) : value;
    }
    if (mask === 0) return;
    let statement = updates.get(mask);
    if (statement === undefined) {
      statement = sql(updateSql("deliveries", params, "id"));
      updates.set(mask, statement);
    }
    statement.run(params);
  };

  /**
   * The lease check, the attempt's number and record and the delivery's next state: reads
   * only, so a write refused here (lost lease, bad input) has changed nothing.
   */
  const plan = (write: GuardedWrite): PlannedWrite => {
    const { deliveryId, owner, nowIso, attempt } = write;
    const row =
      typeof deliveryId !== "string"
        ? undefined
        : ((attempt === undefined
            ? selectDelivery(deliveryId)
            : sql(SELECT_WITH_NEXT_ATTEMPT).get(deliveryId)) as Row | undefined);
    const current = row === undefined ? undefined : rows.delivery(row);
    assertLease(current, deliveryId, owner, nowIso);
    let next = current;
    let record: AttemptRecord | undefined;
    if (attempt !== undefined) {
      record = attemptRecord(attempt, deliveryId, row!.next_attempt as number, clock);
      next = attempted(next, record, nowIso);
    }
    return { current, next: write.change(next, nowIso), attempt: record };
  };

  /**
   * The planned write: attempt log, endpoint failure run, the delivery's changed columns.
   * `healthy`: endpoints that this transaction has already left with no failure run (a
   * success's HEALTH ran and nothing has failed on them since); a success on one of them
   * changes nothing, so its HEALTH is not run again.
   */
  const execute = (
    { current, next, attempt }: PlannedWrite,
    healthy: ReadonlySet<string>,
  ): GuardedResult => {
    if (attempt === undefined) {
      writeChanges(current, next);
      return { delivery: next };
    }
    sql(INSERT_ATTEMPT).run(
      attempt.id,
      attempt.deliveryId,
      attempt.number,
      ms(attempt.startedAt),
      attempt.durationMs,
      attempt.succeeded ? 1 : 0,
      attempt.statusCode,
      attempt.responseHeaders === null ? null : JSON.stringify(attempt.responseHeaders),
      attempt.responseBody,
      attempt.error,
    );
    const health =
      attempt.succeeded && healthy.has(current.endpointId)
        ? undefined
        : (sql(HEALTH).get({
            ok: attempt.succeeded ? 1 : 0,
            started: ms(attempt.startedAt),
            id: current.endpointId,
          }) as { consecutive_failures: number; failing_since: number | null } | undefined);
    writeChanges(current, next);
    return {
      delivery: next,
      attempt,
      health: {
        consecutiveFailures: health?.consecutive_failures ?? 0,
        failingSince:
          health?.failing_since == null ? null : new Date(health.failing_since).toISOString(),
      },
    };
  };

  /**
   * A group's writes in order. Fast path (`savepoints` false): a write refused by its checks
   * has written nothing, so it needs no savepoint; a write that fails once it has started
   * writing (a database error) throws HalfWritten, and the group is run again with a savepoint
   * per write, so that one failure undoes only its own change. An endpoint counts as healthy
   * for the rest of the group only once the write that left it so is kept (its savepoint
   * released, or on the fast path, where a failure reruns the whole group).
   */
  const runGroup = (writes: readonly GuardedWrite[], savepoints: boolean): Outcome[] => {
    const outcomes: Outcome[] = [];
    const healthy = new Set<string>();
    const kept = (result: GuardedResult, endpointId: string): GuardedResult => {
      if (result.attempt?.succeeded === true) healthy.add(endpointId);
      else if (result.attempt !== undefined) healthy.delete(endpointId);
      return result;
    };
    for (const write of writes) {
      if (savepoints) {
        try {
          const { endpointId, result } = ctx.db.transaction(() => {
            const planned = plan(write);
            return { endpointId: planned.current.endpointId, result: execute(planned, healthy) };
          })();
          outcomes.push({ ok: true, value: kept(result, endpointId) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
        continue;
      }
      let planned: PlannedWrite;
      try {
        planned = plan(write);
      } catch (error) {
        outcomes.push({ ok: false, error });
        continue;
      }
      try {
        outcomes.push({
          ok: true,
          value: kept(execute(planned, healthy), planned.current.endpointId),
        });
      } catch (error) {
        throw new HalfWritten("a grouped write failed half-way", { cause: error });
      }
    }
    return outcomes;
  };

  /**
   * A group of lease-guarded writes in one IMMEDIATE transaction; one lost lease fails only its
   * own write. Errors are translated as every other store call's (SQLITE_BUSY →
   * store.unavailable).
   */
  const applyGroup = async (writes: readonly GuardedWrite[]): Promise<Outcome[]> => {
    let outcomes: Outcome[];
    try {
      outcomes = await call(() => {
        try {
          return ctx.relaxed(() => runGroup(writes, false));
        } catch (error) {
          if (!(error instanceof HalfWritten)) throw error;
          return ctx.relaxed(() => runGroup(writes, true));
        }
      });
    } catch (error) {
      return writes.map(() => ({ ok: false, error }));
    }
    return Promise.all(
      outcomes.map((outcome) =>
        outcome.ok
          ? outcome
          : call(() => {
              throw outcome.error;
            }).catch((error: unknown) => ({ ok: false as const, error })),
      ),
    );
  };

  // Group commit (../../core/batcher.ts): every caller is answered after the COMMIT (with no
  // fsync of its own: ctx.relaxed). While writes come in bursts (the last commit had several),
  // each turn's writes wait for its end and commit together: one commit per turn. Otherwise
  // the first write of a turn commits at once (after the current callback), as a lone write
  // always did, and the writes that follow in the same turn commit together at its end.
  // (Committing lone writes at the turn's end too let one worker of eight in one process win
  // every claim of an ordered endpoint.)
  const guarded = batchedGuarded(applyGroup, clock, {
    start: "eager",
    maxBatch: Number.POSITIVE_INFINITY,
    maxConcurrent: Number.POSITIVE_INFINITY,
  });

  return {
    claimDueDeliveries: (options) =>
      call(() => {
        const now = nowMs(clock, options.now);
        const { owner, limit, leaseUntilIso } = claimSettings(options, now);
        return ctx.relaxed(() => {
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
