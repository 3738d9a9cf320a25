// The inbox: per-consumer "have I handled this event?" on top of any DedupeStore, keyed by
// `inboxKey(consumer, eventId)`, so one event is handled once by each consumer that reads it.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { DedupeClaim, DedupeStore } from "../store/ports.js";

/** Longest consumer name; the event id may be as long as the envelope allows. */
const MAX_INBOX_CONSUMER_LENGTH = 200;

// A consumer never holds ":", so the first ":" of a key always ends the consumer name and two
// different (consumer, eventId) pairs can never share a key.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONSUMER = /^[^\s:\u0000-\u001f\u007f]+$/;

/**
 * The dedupe key of `eventId` for `consumer`: `inbox:<consumer>:<eventId>`. Throws HeraldError
 * `inbox.invalid_key` for an empty or oversized consumer, one holding ":" or whitespace, or an
 * empty event id.
 */
export function inboxKey(consumer: string, eventId: string): string {
  if (
    typeof consumer !== "string" ||
    consumer.length > MAX_INBOX_CONSUMER_LENGTH ||
    !CONSUMER.test(consumer)
  ) {
    throw new HeraldError(
      "inbox.invalid_key",
      `Inbox consumer ${JSON.stringify(consumer)} must be 1–${MAX_INBOX_CONSUMER_LENGTH} characters without ":", whitespace or control characters`,
      { details: { consumer } },
    );
  }
  if (typeof eventId !== "string" || eventId.length === 0) {
    throw new HeraldError("inbox.invalid_key", "Inbox event id must be a non-empty string", {
      details: { consumer },
    });
  }
  return `inbox:${consumer}:${eventId}`;
}

export interface Inbox {
  /**
   * Claims `eventId` for `consumer` for `leaseMs`: `claimed: true` with a token the first time
   * (or after an earlier claim's lease lapsed or was released); otherwise whether the event is
   * still being handled or was handled already.
   */
  claim(consumer: string, eventId: string, leaseMs: number): Promise<DedupeClaim>;
  /** Marks the event handled and remembers it for `ttlMs`; false when the lease was lost. */
  complete(consumer: string, eventId: string, token: string, ttlMs: number): Promise<boolean>;
  /** Gives the claim up so a redelivery is handled; a no-op for a stale token. */
  release(consumer: string, eventId: string, token: string): Promise<void>;
  /** Deletes expired entries when the store keeps them (SQL); 0 for self-expiring stores. */
  prune(): Promise<number>;
}

export function createInbox(store: DedupeStore & { prune?(): Promise<number> }): Inbox {
  return {
    claim: (consumer, eventId, leaseMs) => store.claim(inboxKey(consumer, eventId), leaseMs),
    complete: (consumer, eventId, token, ttlMs) =>
      store.complete(inboxKey(consumer, eventId), token, ttlMs),
    release: (consumer, eventId, token) => store.release(inboxKey(consumer, eventId), token),
    prune: async () => (store.prune === undefined ? 0 : store.prune()),
  };
}
