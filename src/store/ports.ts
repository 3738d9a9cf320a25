// Storage ports: the interfaces every backend (memory, Redis, SQLite, PostgreSQL) implements.
import type { Clock } from "../core/clock.js";
import type {
  AppendOptions,
  AppendResult,
  EventToAppend,
  ExpectedVersion,
  ReadResult,
  StoredEvent,
} from "../model/eventRecords.js";

export type * from "../model/eventRecords.js";

/** The answer to a claim: the caller now owns the key, or someone else does / did. */
export type DedupeClaim =
  | { claimed: true; token: string }
  | { claimed: false; state: "processing" | "done" };

/**
 * Remembers which deliveries were seen, so each one is processed once.
 *
 * A key moves `absent → processing (leased to a token) → done (kept for a ttl) → absent`.
 * A processing lease that expires (the process crashed mid-handler) makes the key claimable
 * again: at-least-once, nothing stuck forever. Every method must be atomic across processes
 * sharing the backend.
 */
export interface DedupeStore {
  /**
   * Claims `key` for `leaseMs`. Exactly one of many concurrent callers gets `claimed: true`
   * and a token; the others learn whether the key is still being processed or already done.
   * A key whose lease or ttl has expired is absent and can be claimed again.
   */
  claim(key: string, leaseMs: number): Promise<DedupeClaim>;
  /**
   * Marks `key` processed and keeps it for `ttlMs`. Compare-and-set on `token`: returns false
   * (and changes nothing) when the token no longer owns the key — its lease expired, or the
   * key was released or claimed by someone else.
   */
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  /**
   * Forgets `key` so the sender's retry is processed; a no-op unless `token` still owns it
   * (a stale token must never erase a newer claim).
   */
  release(key: string, token: string): Promise<void>;
  /** Releases connections and timers the store created. */
  close?(): Promise<void>;
}

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
// ---------------------------------------------------------------------------------------------

/**
 * SQL backends implement DedupeStore over an `inbox` table; the key of an inbox entry is
 * `inboxKey(consumer, eventId)`. Expired entries are removed by `prune`.
 */
export interface PrunableDedupeStore extends DedupeStore {
  /** Deletes entries whose lease or ttl has expired; returns how many. */
  prune(): Promise<number>;
}
export type * from "./deliveryPorts.js";
