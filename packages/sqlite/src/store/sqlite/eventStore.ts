// SQLite EventStore (better-sqlite3). Every append runs in one IMMEDIATE transaction: it takes
// the database write lock before reading the head, so writers — in this process or in others
// sharing the file — are serialised, and the global position is commit order.

import {
  assertExpectedVersion,
  atVersions,
  checkCheckpointName,
  checkCheckpointValue,
  closedError,
  decideIdempotency,
  loadRange,
  type PreparedAppend,
  positionReadWindow,
  prepareAppend,
  readResult,
  type StoredId,
} from "@heraldjs/core/internal/model/appendRules.js";
import { parseStreamName } from "@heraldjs/core/internal/model/streamName.js";
import type {
  AppendResult,
  CheckpointStore,
  EventStore,
  EventStoreOptions,
  ReadResult,
  StoredEvent,
} from "@heraldjs/core/internal/store/ports.js";
import { type EventColumns, storedEvent } from "@heraldjs/core/internal/store/sql/eventRow.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import type { SqliteDatabase } from "./database.js";
import { type EventStatements, prepareEventStatements } from "./eventStatements.js";
import { isSqliteUnavailable } from "./unavailable.js";

interface SqliteEventRow extends Omit<EventColumns, "payload" | "metadata"> {
  position: number;
  payload: string;
  metadata: string;
  committed_at: string;
}

function toStored(row: SqliteEventRow): StoredEvent {
  return storedEvent(
    {
      ...row,
      payload: JSON.parse(row.payload) as JsonObject,
      metadata: JSON.parse(row.metadata) as JsonObject,
    },
    String(row.position),
    row.committed_at,
  );
}

// SQLITE_BUSY (another process held the write lock past busy_timeout), I/O and full-disk
// errors, a closed database mean the store cannot take the write now (isSqliteUnavailable);
// anything else is a bug and stays as it is.
function translate(error: unknown): unknown {
  if (isHeraldError(error) || !isSqliteUnavailable(error)) return error;
  const code = (error as { code?: unknown }).code;
  const what = typeof code === "string" ? code : "the database is closed";
  return new HeraldError("store.unavailable", `SQLite event store: ${what}`, { cause: error });
}

/**
 * An EventStore and CheckpointStore on `db`, which the caller opened (openSqlite) and migrated
 * (migrateSqlite) and still owns: `close()` stops this store but leaves `db` open.
 */
export function createSqliteEventStore(
  db: SqliteDatabase,
  options: EventStoreOptions = {},
): EventStore & CheckpointStore {
  const clock: Clock = options.clock ?? systemClock;
  const disableConcurrencyCheck = options.disableConcurrencyCheck ?? false;
  let sql: EventStatements;
  try {
    sql = prepareEventStatements(db);
  } catch (error) {
    // Preparing fails when the tables are missing: say what to do about it.
    throw new HeraldError(
      "store.unavailable",
      "SQLite event store: the database is not migrated (run migrateSqlite or `herald migrate`)",
      { cause: error },
    );
  }
  let closed = false;

  function appendLocked(prepared: PreparedAppend, published: boolean): AppendResult {
    const { stream } = prepared;
    const stored = sql.findIds.all(JSON.stringify(prepared.ids)) as StoredId[];
    const decision = decideIdempotency(prepared, stored);
    if (decision.kind === "idempotent") {
      const rows = sql.loadRange.all(stream, decision.fromVersion, prepared.ids.length);
      return {
        fromVersion: decision.fromVersion,
        toVersion: decision.toVersion,
        stream,
        events: (rows as SqliteEventRow[]).map(toStored),
        idempotent: true,
      };
    }
    const head = (sql.head.get(stream) as { version: number } | undefined)?.version ?? 0;
    assertExpectedVersion(prepared, head, disableConcurrencyCheck);
    const toVersion = head + prepared.ids.length;
    sql.upsertStream.run(stream, prepared.aggregateType, prepared.aggregateId, toVersion);
    const committedAt = new Date(clock.now()).toISOString();
    const events = atVersions(prepared, head + 1).map((envelope) => {
      const { position } = sql.insertEvent.get({
        stream,
        version: envelope.aggregate!.version,
        event_id: envelope.id,
        type: envelope.type,
        source: envelope.source,
        occurred_at: envelope.occurredAt,
        correlation_id: envelope.correlationId ?? null,
        causation_id: envelope.causationId ?? null,
        payload: JSON.stringify(envelope.payload),
        metadata: JSON.stringify(envelope.metadata),
        published: published ? 1 : 0,
        committed_at: committedAt,
      }) as { position: number };
      // A copy, like load(): the caller's objects are not shared with what it gets back.
      return {
        stream,
        version: envelope.aggregate!.version,
        checkpoint: String(position),
        envelope: structuredClone(envelope),
        committedAt,
      };
    });
    return { stream, fromVersion: head + 1, toVersion, events, idempotent: false };
  }

  const appendTransaction = db.transaction(appendLocked);

  function run<T>(fn: () => T): T {
    if (closed) throw closedError();
    try {
      return fn();
    } catch (error) {
      throw translate(error);
    }
  }

  function read(readOptions: { after?: string; limit?: number }, outbox: boolean) {
    return run((): ReadResult => {
      const { after, limit } = positionReadWindow(readOptions);
      const rows = (outbox ? sql.readOutbox : sql.readAll).all(after, limit) as SqliteEventRow[];
      return readResult(rows.map(toStored), readOptions.after);
    });
  }

  return {
    async append(stream, events, appendOptions = {}) {
      return run(() => {
        const prepared = prepareAppend(stream, events, appendOptions, clock);
        return appendTransaction.immediate(prepared, false);
      });
    },
    async publish(stream, expectedVersion, events) {
      return run(() => {
        const prepared = prepareAppend(stream, events, { expectedVersion }, clock);
        return appendTransaction.immediate(prepared, true);
      });
    },
    async load(stream, loadOptions = {}) {
      return run(() => {
        const { fromVersion, limit } = loadRange(stream, loadOptions);
        // SQLite reads LIMIT -1 as "no limit".
        const rows = sql.loadRange.all(stream, fromVersion, limit ?? -1) as SqliteEventRow[];
        return rows.map(toStored);
      });
    },
    async streamVersion(stream) {
      return run(() => {
        parseStreamName(stream);
        return (sql.head.get(stream) as { version: number } | undefined)?.version ?? 0;
      });
    },
    async readAll(readOptions = {}) {
      return read(readOptions, false);
    },
    async readOutbox(readOptions = {}) {
      return read(readOptions, true);
    },
    async getCheckpoint(name) {
      return run(() => {
        const row = sql.getCheckpoint.get(checkCheckpointName(name)) as
          | { checkpoint: string }
          | undefined;
        return row?.checkpoint;
      });
    },
    async saveCheckpoint(name, checkpoint) {
      run(() => {
        sql.saveCheckpoint.run(
          checkCheckpointName(name),
          checkCheckpointValue(checkpoint),
          new Date(clock.now()).toISOString(),
        );
      });
    },
    async close() {
      closed = true;
    },
  };
}
