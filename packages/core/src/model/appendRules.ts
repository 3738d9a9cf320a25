// The rules every event store backend applies around its own locking: argument checks,
// envelope validation, the idempotency decision and the version check. Backends differ only
// in how they lock a stream and store rows; what an append means is decided here, once.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { createEnvelope, type EventEnvelope } from "../core/envelope.js";
import type {
  AppendOptions,
  EventToAppend,
  ExpectedVersion,
  ReadResult,
  StoredEvent,
} from "./eventRecords.js";
import { parseStreamName } from "./streamName.js";

export interface PreparedAppend {
  stream: string;
  aggregateType: string;
  aggregateId: string;
  expectedVersion: ExpectedVersion;
  /** Validated envelopes in batch order; `aggregate.version` is assigned by `atVersions`. */
  envelopes: EventEnvelope[];
  /** The envelope ids, lower-case, in batch order. */
  ids: string[];
}

function checkExpectedVersion(value: unknown): ExpectedVersion {
  if (value === undefined || value === "any") return "any";
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new HeraldError(
    "stream.invalid_expected_version",
    `expectedVersion must be "any" or an integer >= 0 (got ${JSON.stringify(value)})`,
    { details: { expected: value } },
  );
}

/**
 * Checks the stream name, the expected version and each event (as an envelope, with the
 * stream's aggregate filled in) before any I/O, so a bad batch never takes a lock.
 */
export function prepareAppend(
  stream: string,
  events: readonly EventToAppend[],
  options: AppendOptions = {},
  clock: Clock = systemClock,
): PreparedAppend {
  const { type, id } = parseStreamName(stream);
  const expectedVersion = checkExpectedVersion(options.expectedVersion);
  if (!Array.isArray(events) || events.length === 0) {
    throw new HeraldError("stream.empty_append", `Nothing to append to ${stream}: no events`, {
      details: { stream },
    });
  }
  const envelopes = events.map((event, index) => {
    try {
      // The placeholder version only lets validation pass; the real one is known under lock.
      return createEnvelope(
        { ...event, aggregate: { type, id, version: index + 1 } },
        { clock },
      ) as EventEnvelope;
    } catch (error) {
      if (!isHeraldError(error, "envelope.invalid")) throw error;
      throw new HeraldError("envelope.invalid", `events[${index}]: ${error.message}`, {
        cause: error,
        details: { ...error.details, index, stream },
      });
    }
  });
  const ids = envelopes.map((envelope) => envelope.id);
  const seen = new Set<string>();
  for (const eventId of ids) {
    if (seen.has(eventId)) {
      throw new HeraldError(
        "event.duplicate_id",
        `Event id ${eventId} appears twice in one batch`,
        {
          details: { stream, eventId },
        },
      );
    }
    seen.add(eventId);
  }
  return { stream, aggregateType: type, aggregateId: id, expectedVersion, envelopes, ids };
}

/** The batch's envelopes numbered from `fromVersion`. */
export function atVersions(prepared: PreparedAppend, fromVersion: number): EventEnvelope[] {
  return prepared.envelopes.map((envelope, index) => ({
    ...envelope,
    aggregate: {
      type: prepared.aggregateType,
      id: prepared.aggregateId,
      version: fromVersion + index,
    },
  }));
}

/** Where an id of the batch is already stored. */
export interface StoredId {
  eventId: string;
  stream: string;
  version: number;
}

type IdempotencyDecision =
  | { kind: "new" }
  | { kind: "idempotent"; fromVersion: number; toVersion: number };

/**
 * Decides, from where the batch's ids are already stored, whether the append is new, a
 * harmless retry (every id stored in this stream, in batch order, at consecutive versions) or
 * an error: an id in another stream (`event.duplicate_id`), or a batch mixing stored and new
 * ids or reordering them (`stream.idempotency_conflict`).
 */
export function decideIdempotency(
  prepared: PreparedAppend,
  stored: readonly StoredId[],
): IdempotencyDecision {
  if (stored.length === 0) return { kind: "new" };
  const { stream, ids } = prepared;
  const elsewhere = stored.find((row) => row.stream !== stream);
  if (elsewhere !== undefined) {
    throw new HeraldError(
      "event.duplicate_id",
      `Event id ${elsewhere.eventId} is already stored in stream ${elsewhere.stream}`,
      { details: { stream, eventId: elsewhere.eventId, storedIn: elsewhere.stream } },
    );
  }
  const versionById = new Map(stored.map((row) => [row.eventId, row.version]));
  const versions = ids.map((eventId) => versionById.get(eventId));
  const first = versions[0];
  const consecutive =
    first !== undefined && versions.every((version, index) => version === first + index);
  if (!consecutive) {
    throw new HeraldError(
      "stream.idempotency_conflict",
      `The batch for ${stream} mixes events already stored (${stored.length} of ${ids.length}) with new or reordered ones; retry the exact original batch or only new events`,
      { details: { stream, storedIds: stored.map((row) => row.eventId) } },
    );
  }
  return { kind: "idempotent", fromVersion: first, toVersion: first + ids.length - 1 };
}

export function versionConflict(
  stream: string,
  expected: ExpectedVersion,
  actual: number,
): HeraldError {
  const wanted = expected === 0 ? "not to exist" : `to be at version ${expected}`;
  return new HeraldError(
    "stream.version_conflict",
    `Version conflict on ${stream}: expected it ${wanted}, but it is at version ${actual}`,
    { details: { stream, expected, actual } },
  );
}

/** Throws `stream.version_conflict` unless the head matches (or the check is off). */
export function assertExpectedVersion(
  prepared: PreparedAppend,
  head: number,
  disableConcurrencyCheck: boolean,
): void {
  const { expectedVersion } = prepared;
  if (disableConcurrencyCheck || expectedVersion === "any") return;
  if (expectedVersion !== head) throw versionConflict(prepared.stream, expectedVersion, head);
}

/** Stream name and load range, checked the same way by every backend. */
export function loadRange(
  stream: string,
  options: { fromVersion?: number; limit?: number } = {},
): { fromVersion: number; limit: number | undefined } {
  parseStreamName(stream);
  const fromVersion = options.fromVersion ?? 1;
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 1) {
    throw new HeraldError("store.invalid_argument", "fromVersion must be an integer >= 1", {
      details: { fromVersion },
    });
  }
  return { fromVersion, limit: checkLimit(options.limit, undefined) };
}

export const DEFAULT_READ_LIMIT = 1000;

export function checkLimit<T extends number | undefined>(
  limit: number | undefined,
  fallback: T,
): number | T {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new HeraldError("store.invalid_argument", "limit must be an integer >= 1", {
      details: { limit },
    });
  }
  return limit;
}

export function invalidCheckpoint(checkpoint: unknown): HeraldError {
  return new HeraldError(
    "checkpoint.invalid",
    `Invalid checkpoint ${JSON.stringify(checkpoint)}: pass back a checkpoint this store returned`,
    { details: { checkpoint } },
  );
}

export function checkCheckpointName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 255) {
    throw new HeraldError("store.invalid_argument", "A checkpoint name is 1–255 characters", {
      details: { name },
    });
  }
  return name;
}

/** Checkpoints are stored as given (any backend's cursor), but must be a non-empty string. */
export function checkCheckpointValue(checkpoint: unknown): string {
  if (typeof checkpoint !== "string" || checkpoint.length === 0 || checkpoint.length > 255) {
    throw new HeraldError(
      "store.invalid_argument",
      "A checkpoint is a string of 1–255 characters",
      {
        details: { checkpoint },
      },
    );
  }
  return checkpoint;
}

export function closedError(): HeraldError {
  return new HeraldError("store.unavailable", "The event store is closed");
}

const POSITION = /^(0|[1-9]\d{0,15})$/;

/** Backends whose writers are serialised use the global position alone as checkpoint. */
function parsePositionCheckpoint(after: string | undefined): number {
  if (after === undefined) return 0;
  if (typeof after !== "string" || !POSITION.test(after) || !Number.isSafeInteger(Number(after))) {
    throw invalidCheckpoint(after);
  }
  return Number(after);
}

/** A read's options where the checkpoint is the position: where it resumes, how many it returns. */
export function positionReadWindow(options: { after?: string; limit?: number }): {
  after: number;
  limit: number;
} {
  return {
    after: parsePositionCheckpoint(options.after),
    limit: checkLimit(options.limit, DEFAULT_READ_LIMIT),
  };
}

/** A read's answer: the last event's checkpoint, or the caller's `after` when nothing was new. */
export function readResult(events: StoredEvent[], after: string | undefined): ReadResult {
  return { events, checkpoint: events.at(-1)?.checkpoint ?? after };
}
