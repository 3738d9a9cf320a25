// The DynamoDB EventStore and CheckpointStore. An append is one TransactWriteItems whose HEAD
// condition is the optimistic-concurrency check and whose EVENTID# items keep ids unique; a
// publish adds the outbox counter and O# items to the same transaction (transactional outbox).
// DynamoDB keeps no global order of all appends, so readAll is refused; readOutbox reads the
// published events in commit order. Layout: tableLayout.ts; tables: ensureTables (tables.ts).
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import {
  checkCheckpointName,
  checkCheckpointValue,
  closedError,
  decideIdempotency,
  loadRange,
  type PreparedAppend,
  positionReadWindow,
  prepareAppend,
  readResult,
  versionConflict,
} from "@heraldjs/core/internal/model/appendRules.js";
import { parseStreamName } from "@heraldjs/core/internal/model/streamName.js";
import type {
  AppendResult,
  CheckpointStore,
  EventStore,
  EventStoreOptions,
} from "@heraldjs/core/internal/store/ports.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type AwsClientOptions, awsClientConfig } from "../../core/awsClientConfig.js";
import {
  appendTransaction,
  COUNTER_INDEX,
  checkBatchSize,
  eventIdIndex,
  HEAD_INDEX,
} from "./appendTransaction.js";
import { cancellation, translate } from "./dynamoErrors.js";
import { ATTR } from "./eventItems.js";
import { loadEvents, readCounter, readHead, readOutboxRange, readStoredIds } from "./eventReads.js";
import { checkpointKey } from "./tableLayout.js";
import { checkTableName } from "./tables.js";

interface DynamoEventStoreCommon extends EventStoreOptions {
  /** The event table (ensureTables creates it). */
  table: string;
}

/**
 * Exactly one of `client` (borrowed: close() leaves it alone) and `aws` (the store creates its
 * own client and destroys it on close()).
 */
export type DynamoEventStoreOptions = DynamoEventStoreCommon &
  ({ client: DynamoDBClient; aws?: undefined } | { aws: AwsClientOptions; client?: undefined });

/** Retries of one transaction cancelled by a concurrent one on the same items. */
const MAX_TRANSACTION_CONFLICTS = 10;
/** Re-reads after the head or the outbox counter moved under an "any" append or a publish. */
const MAX_HEAD_RACES = 50;

const CONDITION_FAILED = "ConditionalCheckFailed";
const TRANSACTION_CONFLICT = "TransactionConflict";

/** A jittered, growing pause: 5 ms doubling per attempt, capped at 250 ms. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(250, 5 * 2 ** Math.min(attempt, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function clientOf(options: DynamoEventStoreOptions): { client: DynamoDBClient; owned: boolean } {
  const hasClient = options.client !== undefined;
  const hasAws = options.aws !== undefined;
  if (hasClient === hasAws) {
    throw new HeraldError(
      "config.invalid",
      "createDynamoEventStore takes exactly one of client (a DynamoDBClient) and aws (client options)",
      { details: { field: hasClient ? "aws" : "client" } },
    );
  }
  if (options.client !== undefined) return { client: options.client, owned: false };
  return { client: new DynamoDBClient(awsClientConfig(options.aws)), owned: true };
}

/**
 * An EventStore and CheckpointStore on the DynamoDB table `table` (see tableLayout.ts).
 *
 * - `append` is one TransactWriteItems of 1 + 2n items (HEAD; per event its V# and EVENTID#
 *   items): at most 49 events (MAX_APPEND_EVENTS). `publish` writes 2 + 3n items (HEAD, outbox
 *   counter; per event V#, EVENTID#, O#): at most 32 events (MAX_PUBLISH_EVENTS). DynamoDB also
 *   caps an item at 400 KB and a transaction at 4 MB. A batch over any limit is refused before
 *   any I/O with `stream.batch_too_large`.
 * - `publish` moves one outbox counter, so publishers are serialised (in this process by a
 *   promise chain; across processes by the counter's condition, re-read and retried with a
 *   jittered backoff). Appends to different streams never contend.
 * - `readOutbox` reads the counter first, then the O# items up to it: every sequence number up
 *   to the counter was written by the transaction that moved the counter, so nothing is skipped.
 * - `readAll` rejects with `store.unsupported`: DynamoDB keeps no global order of all appends
 *   (it would serialise every writer on one item). Use readOutbox, or DynamoDB Streams.
 * - SDK failures (network, throttling, a missing table) reject with `store.unavailable`.
 */
export function createDynamoEventStore(
  options: DynamoEventStoreOptions,
): EventStore & CheckpointStore {
  const table = checkTableName(options.table, "table");
  const { client, owned } = clientOf(options);
  const clock: Clock = options.clock ?? systemClock;
  const disableConcurrencyCheck = options.disableConcurrencyCheck ?? false;
  let closed = false;
  // Publishes of this store run one after the other: they would only conflict on the counter.
  let publishing: Promise<unknown> = Promise.resolve();

  async function run<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    if (closed) throw closedError();
    try {
      return await fn();
    } catch (error) {
      throw translate(table, error, doing);
    }
  }

  async function write(prepared: PreparedAppend, published: boolean): Promise<AppendResult> {
    const { stream, aggregateType, aggregateId, ids } = prepared;
    const expected = prepared.expectedVersion;
    const checked = !disableConcurrencyCheck && expected !== "any";
    let conflicts = 0;
    let races = 0;
    for (;;) {
      const head = checked
        ? (expected as number)
        : await readHead(client, table, aggregateType, aggregateId);
      const seq = published ? await readCounter(client, table) : undefined;
      const committedAt = new Date(clock.now()).toISOString();
      const transaction = appendTransaction(table, prepared, head, committedAt, seq);
      let reasons: string[];
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: transaction.items }));
        return transaction.result;
      } catch (error) {
        const cancelled = cancellation(error);
        if (cancelled === undefined) throw error;
        reasons = cancelled.reasons;
      }
      const failed = (index: number) => reasons[index] === CONDITION_FAILED;
      if (!reasons.includes(CONDITION_FAILED) && reasons.includes(TRANSACTION_CONFLICT)) {
        // A concurrent transaction held an item: the same transaction may well succeed now.
        if (++conflicts > MAX_TRANSACTION_CONFLICTS) {
          throw new HeraldError(
            "store.unavailable",
            `DynamoDB event store (table ${table}): the append to ${stream} kept conflicting with concurrent transactions`,
            { details: { table, stream, attempts: conflicts } },
          );
        }
        await backoff(conflicts);
        continue;
      }
      // A condition failed (or an unknown reason): first, are the ids stored already?
      const stored = await readStoredIds(client, table, ids);
      const decision = decideIdempotency(prepared, stored);
      if (decision.kind === "idempotent") {
        const events = await loadEvents(
          client,
          table,
          aggregateType,
          aggregateId,
          decision.fromVersion,
          ids.length,
        );
        const { fromVersion, toVersion } = decision;
        return { stream, fromVersion, toVersion, events, idempotent: true };
      }
      const firstId = eventIdIndex(ids.length, published);
      const unknown = reasons.some((code) => code !== "None" && code !== CONDITION_FAILED);
      if (unknown && !reasons.includes(CONDITION_FAILED)) {
        throw new HeraldError(
          "store.unavailable",
          `DynamoDB event store (table ${table}): the append to ${stream} was cancelled: ${reasons.join(", ")}`,
          { details: { table, stream, reasons } },
        );
      }
      if (checked && failed(HEAD_INDEX)) {
        // Read after the failure: the head that beat this writer, or a later one.
        const actual = await readHead(client, table, aggregateType, aggregateId);
        if (actual !== expected) throw versionConflict(stream, expected, actual);
      }
      const raced =
        failed(HEAD_INDEX) ||
        (published && failed(COUNTER_INDEX)) ||
        reasons.slice(firstId, firstId + ids.length).includes(CONDITION_FAILED);
      if (!raced || ++races > MAX_HEAD_RACES) {
        throw new HeraldError(
          "store.unavailable",
          `DynamoDB event store (table ${table}): the append to ${stream} could not commit (${reasons.join(", ")}) after ${races} attempts`,
          { details: { table, stream, reasons } },
        );
      }
      // The head or the counter moved (an "any" append, a publish) or an id was stored and
      // removed: read them again and retry.
      await backoff(races);
    }
  }

  function append(prepared: PreparedAppend, published: boolean): Promise<AppendResult> {
    checkBatchSize(table, prepared, published);
    if (!published) return write(prepared, false);
    const turn = publishing.then(() => write(prepared, true));
    publishing = turn.catch(() => undefined);
    return turn;
  }

  return {
    append(stream, events, appendOptions = {}) {
      return run("append", () =>
        append(prepareAppend(stream, events, appendOptions, clock), false),
      );
    },
    publish(stream, expectedVersion, events) {
      return run("publish", () =>
        append(prepareAppend(stream, events, { expectedVersion }, clock), true),
      );
    },
    load(stream, loadOptions = {}) {
      return run("load", async () => {
        const { fromVersion, limit } = loadRange(stream, loadOptions);
        const { type, id } = parseStreamName(stream);
        return loadEvents(client, table, type, id, fromVersion, limit);
      });
    },
    streamVersion(stream) {
      return run("streamVersion", async () => {
        const { type, id } = parseStreamName(stream);
        return readHead(client, table, type, id);
      });
    },
    readAll() {
      return run("readAll", async () => {
        throw new HeraldError(
          "store.unsupported",
          "The DynamoDB event store keeps no global order of all events, so it has no readAll: use readOutbox, which holds the events stored through publish in commit order, or DynamoDB Streams",
          { details: { table } },
        );
      });
    },
    readOutbox(readOptions = {}) {
      return run("readOutbox", async () => {
        const { after, limit } = positionReadWindow(readOptions);
        // The counter first: every sequence number up to it belongs to a committed publish.
        const upTo = await readCounter(client, table);
        const events = await readOutboxRange(client, table, after, upTo, limit);
        return readResult(events, readOptions.after);
      });
    },
    getCheckpoint(name) {
      return run("getCheckpoint", async () => {
        const key = checkpointKey(checkCheckpointName(name));
        const { Item: item } = await client.send(
          new GetItemCommand({
            TableName: table,
            Key: { PK: { S: key.PK }, SK: { S: key.SK } },
            ConsistentRead: true,
          }),
        );
        return item?.[ATTR.checkpoint]?.S;
      });
    },
    saveCheckpoint(name, checkpoint) {
      return run("saveCheckpoint", async () => {
        const key = checkpointKey(checkCheckpointName(name));
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              PK: { S: key.PK },
              SK: { S: key.SK },
              [ATTR.checkpoint]: { S: checkCheckpointValue(checkpoint) },
              savedAt: { S: new Date(clock.now()).toISOString() },
            },
          }),
        );
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) client.destroy();
    },
  };
}
