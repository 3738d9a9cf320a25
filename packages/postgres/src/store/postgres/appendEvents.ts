// One append on a client that is already inside a transaction: the event store runs it in its
// own transaction, and callers can run it in theirs to store events together with their own
// writes (the transactional outbox, committed or rolled back as one).

import type { EventEnvelope } from "@heraldjs/core/internal/core/envelope.js";
import {
  assertExpectedVersion,
  atVersions,
  decideIdempotency,
  type PreparedAppend,
  prepareAppend,
  type StoredId,
} from "@heraldjs/core/internal/model/appendRules.js";
import type {
  AppendOptions,
  AppendResult,
  EventToAppend,
  StoredEvent,
} from "@heraldjs/core/internal/store/ports.js";
import { storedEvent } from "@heraldjs/core/internal/store/sql/eventRow.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { PgClient, PgPool } from "./database.js";
import {
  APPEND_ANY_VERSION,
  APPEND_AT_VERSION,
  APPEND_NEW_STREAM,
  FIND_IDS,
  INSERT_EVENTS,
  LOAD,
  LOCK_STREAM,
  type PgEventRow,
  SET_HEAD,
} from "./eventStatements.js";

/** The form of every PostgreSQL checkpoint: the writing transaction's id, then the position. */
function pgCheckpoint(transactionId: string, position: string): string {
  return `${transactionId}:${position}`;
}

export function pgStoredEvent(row: PgEventRow): StoredEvent {
  return storedEvent(
    row,
    pgCheckpoint(row.transaction_id, row.position),
    row.committed_at.toISOString(),
  );
}

type InsertedRow = Pick<PgEventRow, "position" | "transaction_id" | "version" | "committed_at">;

function storedEvents(
  stream: string,
  envelopes: readonly EventEnvelope[],
  inserted: readonly InsertedRow[],
): StoredEvent[] {
  const byVersion = new Map(inserted.map((row) => [row.version, row]));
  return envelopes.map((envelope): StoredEvent => {
    const row = byVersion.get(envelope.aggregate!.version)!;
    return {
      stream,
      version: row.version,
      checkpoint: pgCheckpoint(row.transaction_id, row.position),
      envelope: structuredClone(envelope),
      committedAt: row.committed_at.toISOString(),
    };
  });
}

/** PostgreSQL's unique_violation: a stored event id, or a stream created concurrently. */
function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505"
  );
}

/**
 * The common append in one statement on `pool`, its own transaction (see APPEND_AT_VERSION).
 * Resolves to undefined when it wrote nothing because the expected version did not hold or an
 * id of the batch is already stored: the caller then runs `appendPrepared`, which reports the
 * conflict or returns the idempotent result under the stream lock.
 */
export async function appendInOneStatement(
  pool: PgPool,
  prepared: PreparedAppend,
  published: boolean,
  disableConcurrencyCheck: boolean,
): Promise<AppendResult | undefined> {
  const { stream, expectedVersion, envelopes } = prepared;
  const expected = disableConcurrencyCheck ? "any" : expectedVersion;
  const [statements, head] =
    expected === "any"
      ? [APPEND_ANY_VERSION, [prepared.aggregateType, prepared.aggregateId]]
      : expected === 0
        ? [APPEND_NEW_STREAM, [prepared.aggregateType, prepared.aggregateId]]
        : [APPEND_AT_VERSION, [expected]];
  const only = envelopes.length === 1 ? envelopes[0]! : undefined;
  const statement = only === undefined ? statements.batch : statements.single;
  const values: unknown[] = [stream, envelopes.length, published, ...head];
  if (only === undefined) values.push(JSON.stringify(envelopes));
  else {
    values.push(
      only.id,
      only.type,
      only.source,
      only.occurredAt,
      only.correlationId ?? null,
      only.causationId ?? null,
      JSON.stringify(only.payload),
      JSON.stringify(only.metadata),
    );
  }
  let inserted: InsertedRow[];
  try {
    ({ rows: inserted } = await pool.query<InsertedRow>({ ...statement, values }));
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
  if (inserted.length !== envelopes.length) return undefined;
  const fromVersion = Math.min(...inserted.map((row) => row.version));
  const numbered = atVersions(prepared, fromVersion);
  return {
    stream,
    fromVersion,
    toVersion: fromVersion + numbered.length - 1,
    events: storedEvents(stream, numbered, inserted),
    idempotent: false,
  };
}

/** Runs a prepared append on `client`, which must be inside a transaction. */
export async function appendPrepared(
  client: PgClient,
  prepared: PreparedAppend,
  published: boolean,
  disableConcurrencyCheck: boolean,
): Promise<AppendResult> {
  const { stream } = prepared;
  const locked = await client.query<{ version: number }>(LOCK_STREAM, [
    stream,
    prepared.aggregateType,
    prepared.aggregateId,
  ]);
  const head = locked.rows[0]!.version;
  const stored = await client.query<StoredId>(FIND_IDS, [prepared.ids]);
  const decision = decideIdempotency(prepared, stored.rows);
  if (decision.kind === "idempotent") {
    const original = await client.query<PgEventRow>(LOAD, [
      stream,
      decision.fromVersion,
      prepared.ids.length,
    ]);
    return {
      fromVersion: decision.fromVersion,
      toVersion: decision.toVersion,
      stream,
      events: original.rows.map(pgStoredEvent),
      idempotent: true,
    };
  }
  assertExpectedVersion(prepared, head, disableConcurrencyCheck);
  const envelopes = atVersions(prepared, head + 1);
  const batch = envelopes.map((envelope) => ({
    ...envelope,
    version: envelope.aggregate!.version,
  }));
  const inserted = await client.query<InsertedRow>(INSERT_EVENTS, [
    stream,
    JSON.stringify(batch),
    published,
  ]);
  const toVersion = head + envelopes.length;
  await client.query(SET_HEAD, [stream, toVersion]);
  const events = storedEvents(stream, envelopes, inserted.rows);
  return { stream, fromVersion: head + 1, toVersion, events, idempotent: false };
}

export interface AppendInTransactionOptions extends AppendOptions {
  /** Record the events for publication (the outbox), like EventStore.publish. */
  publish?: boolean;
  /** See EventStoreOptions.disableConcurrencyCheck; unsafe under concurrent writers. */
  disableConcurrencyCheck?: boolean;
  clock?: Clock;
}

/**
 * Appends to `stream` on `client` inside the caller's transaction (BEGIN … COMMIT is the
 * caller's): the events commit or roll back with the caller's other writes. The stream row
 * stays locked until that transaction ends, so keep it short. Errors are those of
 * EventStore.append; after one, the caller must roll back.
 */
export async function appendInTransaction(
  client: PgClient,
  stream: string,
  events: readonly EventToAppend[],
  options: AppendInTransactionOptions = {},
): Promise<AppendResult> {
  const prepared = prepareAppend(stream, events, options, options.clock ?? systemClock);
  return appendPrepared(
    client,
    prepared,
    options.publish ?? false,
    options.disableConcurrencyCheck ?? false,
  );
}
