// The dedupe port: what a store must do so a webhook handler runs once. The memory store in
// this package implements it; the SQLite, PostgreSQL and Redis packages do too.

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

/**
 * SQL backends implement DedupeStore over an `inbox` table; the key of an inbox entry is
 * `inboxKey(consumer, eventId)`. Expired entries are removed by `prune`.
 */
export interface PrunableDedupeStore extends DedupeStore {
  /** Deletes entries whose lease or ttl has expired; returns how many. */
  prune(): Promise<number>;
}
