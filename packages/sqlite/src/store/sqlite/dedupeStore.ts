// SQLite DedupeStore over the `inbox` table (migration 002). A claim is one upsert that
// inserts the key or takes over an expired row; complete and release compare the token in
// their WHERE clause, so a stale token never touches a newer claim.
import { randomUUID } from "node:crypto";
import type { DedupeClaim, PrunableDedupeStore } from "@heraldjs/core/internal/store/ports.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type Database from "better-sqlite3";
import { limitOf, type SqliteDatabase } from "./database.js";
import { isSqliteUnavailable } from "./unavailable.js";

export interface SqliteDedupeStoreOptions {
  /** Time source for leases and ttls; default the system clock. */
  clock?: Clock;
  /** Rows deleted per prune transaction, so a big prune never holds the write lock long. */
  pruneBatchSize?: number;
}

const CLAIM = `INSERT INTO inbox (key, token, state, expires_at)
  VALUES (@key, @token, 'processing', @expiresAt)
  ON CONFLICT (key) DO UPDATE
    SET token = excluded.token, state = 'processing', expires_at = excluded.expires_at
    WHERE inbox.expires_at <= @now
  RETURNING token`;
const STATE = "SELECT state FROM inbox WHERE key = ? AND expires_at > ?";
const COMPLETE = `UPDATE inbox SET state = 'done', expires_at = @expiresAt
  WHERE key = @key AND token = @token AND state = 'processing' AND expires_at > @now`;
const RELEASE = "DELETE FROM inbox WHERE key = ? AND token = ? AND state = 'processing'";
const PRUNE = `DELETE FROM inbox
  WHERE key IN (SELECT key FROM inbox WHERE expires_at <= ? LIMIT ${limitOf("?")})`;

/** Expiry in whole milliseconds, never earlier than asked. */
const deadline = (now: number, ms: number) => Math.ceil(now + ms);

/** `error` as thrown by `what`: store.unavailable when it means so (isSqliteUnavailable). */
function translate(what: string, error: unknown): unknown {
  if (isHeraldError(error) || !isSqliteUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new HeraldError("store.unavailable", `SQLite inbox ${what} failed: ${reason}`, {
    cause: error,
  });
}

export function createSqliteDedupeStore(
  db: SqliteDatabase,
  { clock = systemClock, pruneBatchSize = 10_000 }: SqliteDedupeStoreOptions = {},
): PrunableDedupeStore {
  let statements:
    | Record<"claim" | "state" | "complete" | "release" | "prune", Database.Statement<unknown[]>>
    | undefined;

  // Prepared on first use, so creating the store never fails on an unmigrated database; using
  // it does, saying what to do about it.
  function sql() {
    try {
      statements ??= {
        claim: db.prepare(CLAIM),
        state: db.prepare(STATE).pluck(),
        complete: db.prepare(COMPLETE),
        release: db.prepare(RELEASE),
        prune: db.prepare(PRUNE),
      };
    } catch (error) {
      if (isSqliteUnavailable(error)) throw error;
      throw new HeraldError(
        "store.unavailable",
        "SQLite inbox: the database is not migrated (run migrateSqlite or `herald migrate`)",
        { cause: error },
      );
    }
    return statements;
  }

  // The upsert and the read of a refused key's state share one write transaction, so the state
  // reported is the one that refused the claim.
  const claimOnce = (key: string, leaseMs: number): DedupeClaim => {
    const { claim, state } = sql();
    return db
      .transaction((): DedupeClaim => {
        const now = clock.now();
        const token = randomUUID();
        const row = claim.get({ key, token, now, expiresAt: deadline(now, leaseMs) });
        if (row !== undefined) return { claimed: true, token };
        const current = state.get(key, now) as "processing" | "done";
        return { claimed: false, state: current };
      })
      .immediate();
  };

  return {
    async claim(key, leaseMs) {
      try {
        return claimOnce(key, leaseMs);
      } catch (error) {
        throw translate("claim", error);
      }
    },

    async complete(key, token, ttlMs) {
      try {
        const now = clock.now();
        const result = sql().complete.run({ key, token, now, expiresAt: deadline(now, ttlMs) });
        return result.changes === 1;
      } catch (error) {
        throw translate("complete", error);
      }
    },

    async release(key, token) {
      try {
        sql().release.run(key, token);
      } catch (error) {
        throw translate("release", error);
      }
    },

    async prune() {
      try {
        const now = clock.now();
        let total = 0;
        for (;;) {
          const { changes } = sql().prune.run(now, pruneBatchSize);
          total += changes;
          if (changes < pruneBatchSize) return total;
        }
      } catch (error) {
        throw translate("prune", error);
      }
    },
  };
}
