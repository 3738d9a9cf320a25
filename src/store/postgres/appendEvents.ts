// One append on a client that is already inside a transaction: the event store runs it in its
// own transaction, and callers can run it in theirs to store events together with their own
// writes (the transactional outbox, committed or rolled back as one).
import { type Clock, systemClock } from "../../core/clock.js";
import {
  assertExpectedVersion,
  atVersions,
  decideIdempotency,
  type PreparedAppend,
  prepareAppend,
  type StoredId,
} from "../appendRules.js";
import { storedEvent } from "../eventRow.js";
import type { AppendOptions, AppendResult, EventToAppend, StoredEvent } from "../ports.js";
import type { PgClient } from "./database.js";
import {
  FIND_IDS,
  INSERT_EVENTS,
  LOAD,
  LOCK_STREAM,
  type PgEventRow,
  SET_HEAD,
} from "./eventStatements.js";

/** The form of every PostgreSQL checkpoint: the writing transaction's id, then the position. */
export function pgCheckpoint(transactionId: string, position: string): string {
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
  const byVersion = new Map(inserted.rows.map((row) => [row.version, row]));
  const events = envelopes.map((envelope): StoredEvent => {
    const row = byVersion.get(envelope.aggregate!.version)!;
    return {
      stream,
      version: row.version,
      checkpoint: pgCheckpoint(row.transaction_id, row.position),
      envelope: structuredClone(envelope),
      committedAt: row.committed_at.toISOString(),
    };
  });
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
