// Storage ports: the interfaces every backend (memory, Redis, SQLite, PostgreSQL) implements.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type {
  AppendOptions,
  AppendResult,
  EventToAppend,
  ExpectedVersion,
  ReadResult,
  StoredEvent,
} from "../model/eventRecords.js";

export type {
  DedupeClaim,
  DedupeStore,
  PrunableDedupeStore,
} from "@heraldjs/webhooks/internal/store/dedupePort.js";
export type * from "../model/eventRecords.js";

// ---------------------------------------------------------------------------------------------
// Event store
// ---------------------------------------------------------------------------------------------

/**
 * Append-only event store with optimistic concurrency, enforced by the backend itself
 * (SQL constraints and transactions), never by check-then-write in application code.
 *
 * Errors: `stream.invalid` (bad stream name), `stream.version_conflict` with
 * `details: { stream, expected, actual }`, `event.duplicate_id` (the id is stored in another
 * stream), `stream.idempotency_conflict` (a batch mixing stored and new ids),
 * `envelope.invalid`, `store.unavailable`.
 */
export interface EventStore {
  append(
    stream: string,
    events: readonly EventToAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /**
   * Appends and records the events for publication in the same transaction (transactional
   * outbox): a forwarder relays them to the bus, at least once, in commit order.
   */
  publish(
    stream: string,
    expectedVersion: ExpectedVersion,
    events: readonly EventToAppend[],
  ): Promise<AppendResult>;
  /** Events of one stream from `fromVersion` (default 1), in version order. */
  load(stream: string, options?: { fromVersion?: number; limit?: number }): Promise<StoredEvent[]>;
  /** Head version of a stream; 0 when it does not exist. */
  streamVersion(stream: string): Promise<number>;
  /**
   * Every committed event after `after`, in commit order. Never skips an event whose
   * transaction commits late: events become visible here only once every transaction that
   * could precede them has finished.
   */
  readAll(options?: { after?: string; limit?: number }): Promise<ReadResult>;
  /** Like readAll, restricted to events stored through `publish`. */
  readOutbox(options?: { after?: string; limit?: number }): Promise<ReadResult>;
  close(): Promise<void>;
}

export interface EventStoreOptions {
  /**
   * Append after the current head without checking `expectedVersion`. UNSAFE under concurrent
   * writers to one stream: each batch still lands whole, after the head, without gaps, but a
   * writer's events may follow events it never saw, so whatever it decided from the state it
   * loaded can be wrong. For single-writer imports and migrations only.
   */
  disableConcurrencyCheck?: boolean;
  clock?: Clock;
}

/** Durable named cursors (forwarders, projections). */
export interface CheckpointStore {
  getCheckpoint(name: string): Promise<string | undefined>;
  saveCheckpoint(name: string, checkpoint: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Inbox: per-consumer exactly-once processing of events, on top of DedupeStore semantics
// (PrunableDedupeStore, beside DedupeStore in the webhooks package)
// ---------------------------------------------------------------------------------------------

export type * from "./deliveryPorts.js";
