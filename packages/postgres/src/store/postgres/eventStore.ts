// PostgreSQL EventStore (pg, pooled). Appends lock their stream's row, so writers of one stream
// take turns while other streams append in parallel — usually in one statement, see
// appendInOneStatement; reads follow commit order through the writing transaction's id (see
// eventStatements.ts), so no late commit is ever skipped.

import {
  checkCheckpointName,
  checkCheckpointValue,
  checkLimit,
  closedError,
  DEFAULT_READ_LIMIT,
  invalidCheckpoint,
  loadRange,
  prepareAppend,
  readResult,
} from "@heraldjs/core/internal/model/appendRules.js";
import { parseStreamName } from "@heraldjs/core/internal/model/streamName.js";
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventStore,
  EventStoreOptions,
  EventToAppend,
  ReadResult,
} from "@heraldjs/core/internal/store/ports.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { appendInOneStatement, appendPrepared, pgStoredEvent } from "./appendEvents.js";
import { type PgPool, withTransaction } from "./database.js";
import {
  GET_CHECKPOINT,
  LOAD,
  type PgEventRow,
  READ_ALL,
  READ_OUTBOX,
  SAVE_CHECKPOINT,
  STREAM_HEAD,
} from "./eventStatements.js";
import { translatePgError } from "./eventStoreErrors.js";

const PG_CHECKPOINT = /^(\d{1,20}):(\d{1,19})$/;

function parsePgCheckpoint(after: string | undefined): [string, string] {
  if (after === undefined) return ["0", "0"];
  const match = typeof after === "string" ? PG_CHECKPOINT.exec(after) : null;
  if (match === null) throw invalidCheckpoint(after);
  return [match[1]!, match[2]!];
}

/**
 * An EventStore and CheckpointStore on `pool` (createPgPool, schema migrated by
 * migratePostgres). The caller owns the pool: `close()` stops this store but leaves it open.
 */
export function createPostgresEventStore(
  pool: PgPool,
  options: EventStoreOptions = {},
): EventStore & CheckpointStore {
  const clock: Clock = options.clock ?? systemClock;
  const disableConcurrencyCheck = options.disableConcurrencyCheck ?? false;
  let closed = false;

  async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (closed) throw closedError();
    try {
      return await fn();
    } catch (error) {
      throw await translatePgError(error);
    }
  }

  async function head(stream: string): Promise<number> {
    const { rows } = await pool.query<{ version: number }>(STREAM_HEAD, [stream]);
    return rows[0]?.version ?? 0;
  }

  async function appendWith(
    stream: string,
    events: readonly EventToAppend[],
    appendOptions: AppendOptions,
    published: boolean,
  ): Promise<AppendResult> {
    if (closed) throw closedError();
    const prepared = prepareAppend(stream, events, appendOptions, clock);
    try {
      // One round trip when the append goes through; a conflict or a retried batch writes
      // nothing there and is settled under the stream lock, statement by statement.
      const done = await appendInOneStatement(pool, prepared, published, disableConcurrencyCheck);
      if (done !== undefined) return done;
      return await withTransaction(pool, (client) =>
        appendPrepared(client, prepared, published, disableConcurrencyCheck),
      );
    } catch (error) {
      throw await translatePgError(error, {
        stream,
        expected: prepared.expectedVersion,
        readHead: () => head(stream),
      });
    }
  }

  async function read(
    readOptions: { after?: string; limit?: number },
    outboxOnly: boolean,
  ): Promise<ReadResult> {
    const [transactionId, position] = parsePgCheckpoint(readOptions.after);
    const limit = checkLimit(readOptions.limit, DEFAULT_READ_LIMIT);
    return run(async () => {
      const { rows } = await pool.query<PgEventRow>(outboxOnly ? READ_OUTBOX : READ_ALL, [
        transactionId,
        position,
        limit,
      ]);
      return readResult(rows.map(pgStoredEvent), readOptions.after);
    });
  }

  return {
    append(stream, events, appendOptions = {}) {
      return appendWith(stream, events, appendOptions, false);
    },
    publish(stream, expectedVersion, events) {
      return appendWith(stream, events, { expectedVersion }, true);
    },
    async load(stream, loadOptions = {}) {
      const { fromVersion, limit } = loadRange(stream, loadOptions);
      return run(async () => {
        const { rows } = await pool.query<PgEventRow>(LOAD, [stream, fromVersion, limit ?? null]);
        return rows.map(pgStoredEvent);
      });
    },
    async streamVersion(stream) {
      parseStreamName(stream);
      return run(() => head(stream));
    },
    readAll(readOptions = {}) {
      return read(readOptions, false);
    },
    readOutbox(readOptions = {}) {
      return read(readOptions, true);
    },
    async getCheckpoint(name) {
      checkCheckpointName(name);
      return run(async () => {
        const { rows } = await pool.query<{ checkpoint: string }>(GET_CHECKPOINT, [name]);
        return rows[0]?.checkpoint;
      });
    },
    async saveCheckpoint(name, checkpoint) {
      checkCheckpointName(name);
      checkCheckpointValue(checkpoint);
      await run(() => pool.query(SAVE_CHECKPOINT, [name, checkpoint]));
    },
    async close() {
      closed = true;
    },
  };
}
