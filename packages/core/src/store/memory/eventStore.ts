// In-process EventStore: the reference implementation the SQL backends are tested against.
// Each append runs to completion without awaiting, so on JavaScript's single thread it is
// atomic and writers are serialised; the global position therefore is commit order.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { EventEnvelope } from "../../core/envelope.js";
import {
  assertExpectedVersion,
  atVersions,
  checkCheckpointName,
  checkCheckpointValue,
  closedError,
  decideIdempotency,
  loadRange,
  positionReadWindow,
  prepareAppend,
  readResult,
  type StoredId,
} from "../../model/appendRules.js";
import { parseStreamName } from "../../model/streamName.js";
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventStore,
  EventStoreOptions,
  EventToAppend,
  ExpectedVersion,
  ReadResult,
  StoredEvent,
} from "../ports.js";

interface Row {
  position: number;
  stream: string;
  version: number;
  envelope: EventEnvelope;
  published: boolean;
  committedAt: string;
}

function toStored(row: Row): StoredEvent {
  // Copies, so a caller mutating what it read (or what it appended) cannot change the store.
  return {
    stream: row.stream,
    version: row.version,
    checkpoint: String(row.position),
    envelope: structuredClone(row.envelope),
    committedAt: row.committedAt,
  };
}

export function createMemoryEventStore(
  options: EventStoreOptions = {},
): EventStore & CheckpointStore {
  const clock: Clock = options.clock ?? systemClock;
  const disableConcurrencyCheck = options.disableConcurrencyCheck ?? false;
  const log: Row[] = [];
  const streams = new Map<string, Row[]>();
  const byId = new Map<string, Row>();
  const checkpoints = new Map<string, string>();
  let closed = false;

  function open(): void {
    if (closed) throw closedError();
  }

  function appendNow(
    stream: string,
    events: readonly EventToAppend[],
    appendOptions: AppendOptions,
    published: boolean,
  ): AppendResult {
    open();
    const prepared = prepareAppend(stream, events, appendOptions, clock);
    const stored: StoredId[] = [];
    for (const eventId of prepared.ids) {
      const row = byId.get(eventId);
      if (row !== undefined) stored.push({ eventId, stream: row.stream, version: row.version });
    }
    const rows = streams.get(stream) ?? [];
    const decision = decideIdempotency(prepared, stored);
    if (decision.kind === "idempotent") {
      const original = rows.slice(decision.fromVersion - 1, decision.toVersion);
      return {
        fromVersion: decision.fromVersion,
        toVersion: decision.toVersion,
        stream,
        events: original.map(toStored),
        idempotent: true,
      };
    }
    const head = rows.length;
    assertExpectedVersion(prepared, head, disableConcurrencyCheck);
    const committedAt = new Date(clock.now()).toISOString();
    const appended = atVersions(prepared, head + 1).map((envelope, index) => {
      const row: Row = {
        position: log.length + 1,
        stream,
        version: head + 1 + index,
        envelope: structuredClone(envelope),
        published,
        committedAt,
      };
      log.push(row);
      rows.push(row);
      byId.set(envelope.id, row);
      return row;
    });
    streams.set(stream, rows);
    return {
      stream,
      fromVersion: head + 1,
      toVersion: head + appended.length,
      events: appended.map(toStored),
      idempotent: false,
    };
  }

  function read(readOptions: { after?: string; limit?: number }, outboxOnly: boolean): ReadResult {
    open();
    const { after, limit } = positionReadWindow(readOptions);
    const events: StoredEvent[] = [];
    // Positions are 1-based indexes into the log, so reading resumes without a search.
    for (let index = after; index < log.length && events.length < limit; index++) {
      const row = log[index]!;
      if (!outboxOnly || row.published) events.push(toStored(row));
    }
    return readResult(events, readOptions.after);
  }

  return {
    async append(stream, events, appendOptions = {}) {
      return appendNow(stream, events, appendOptions, false);
    },
    async publish(stream, expectedVersion: ExpectedVersion, events) {
      return appendNow(stream, events, { expectedVersion }, true);
    },
    async load(stream, loadOptions = {}) {
      open();
      const { fromVersion, limit } = loadRange(stream, loadOptions);
      const rows = streams.get(stream) ?? [];
      const end = limit === undefined ? rows.length : fromVersion - 1 + limit;
      return rows.slice(fromVersion - 1, end).map(toStored);
    },
    async streamVersion(stream) {
      open();
      parseStreamName(stream);
      return streams.get(stream)?.length ?? 0;
    },
    async readAll(readOptions = {}) {
      return read(readOptions, false);
    },
    async readOutbox(readOptions = {}) {
      return read(readOptions, true);
    },
    async getCheckpoint(name) {
      open();
      return checkpoints.get(checkCheckpointName(name));
    },
    async saveCheckpoint(name, checkpoint) {
      open();
      checkpoints.set(checkCheckpointName(name), checkCheckpointValue(checkpoint));
    },
    async close() {
      closed = true;
    },
  };
}
