// PostgreSQL DedupeStore over the `inbox` table (migration 002). A claim is one
// INSERT … ON CONFLICT DO UPDATE … WHERE expired, so of many concurrent callers — on any number
// of machines — exactly one inserts the key or takes over its expired row; complete and release
// compare the token in their WHERE clause.
import { randomUUID } from "node:crypto";
import type { DedupeClaim, PrunableDedupeStore } from "@heraldjs/core/internal/store/ports.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { PgPool } from "./database.js";
import { isPgUnavailable } from "./unavailable.js";

export interface PostgresDedupeStoreOptions {
  /**
   * Time source for leases and ttls. Default: the database's clock (`now()`), so workers on
   * machines whose clocks disagree still agree on when a lease ends. Inject one in tests.
   */
  clock?: Clock;
  /** Rows deleted per prune statement, so a big prune never holds its locks long. */
  pruneBatchSize?: number;
}

// $now is the injected time, or NULL for the database's own clock.
const now = (n: number) => `coalesce($${n}::timestamptz, now())`;
const plus = (n: number, ms: number) => `${now(n)} + $${ms}::double precision * interval '1 ms'`;

const CLAIM = `INSERT INTO inbox AS i (key, token, state, expires_at)
  VALUES ($1, $2, 'processing', ${plus(3, 4)})
  ON CONFLICT (key) DO UPDATE
    SET token = excluded.token, state = 'processing', expires_at = excluded.expires_at
    WHERE i.expires_at <= ${now(3)}
  RETURNING token`;
const STATE = `SELECT state FROM inbox WHERE key = $1 AND expires_at > ${now(2)}`;
const COMPLETE = `UPDATE inbox SET state = 'done', expires_at = ${plus(3, 4)}
  WHERE key = $1 AND token = $2 AND state = 'processing' AND expires_at > ${now(3)}`;
const RELEASE = "DELETE FROM inbox WHERE key = $1 AND token = $2 AND state = 'processing'";
const PRUNE = `DELETE FROM inbox WHERE key IN (
  SELECT key FROM inbox WHERE expires_at <= ${now(1)} LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/** A refused claim reads the key's state next; when the key expired in between, claim again. */
const CLAIM_ATTEMPTS = 5;

/** `error` as thrown by `what`: store.unavailable when it means so (isPgUnavailable). */
function translate(what: string, error: unknown): unknown {
  if (error instanceof HeraldError || !isPgUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new HeraldError("store.unavailable", `PostgreSQL inbox ${what} failed: ${reason}`, {
    cause: error,
  });
}

export function createPostgresDedupeStore(
  pool: PgPool,
  { clock, pruneBatchSize = 10_000 }: PostgresDedupeStoreOptions = {},
): PrunableDedupeStore {
  const at = (): Date | null => (clock === undefined ? null : new Date(clock.now()));

  async function claim(key: string, leaseMs: number): Promise<DedupeClaim> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const token = randomUUID();
      const claimed = await pool.query(CLAIM, [key, token, at(), leaseMs]);
      if (claimed.rowCount === 1) return { claimed: true, token };
      const { rows } = await pool.query<{ state: "processing" | "done" }>(STATE, [key, at()]);
      if (rows[0] !== undefined) return { claimed: false, state: rows[0].state };
    }
    throw new HeraldError("store.unavailable", `Could not claim inbox key ${key}`);
  }

  return {
    async claim(key, leaseMs) {
      try {
        return await claim(key, leaseMs);
      } catch (error) {
        throw translate("claim", error);
      }
    },

    async complete(key, token, ttlMs) {
      try {
        const result = await pool.query(COMPLETE, [key, token, at(), ttlMs]);
        return result.rowCount === 1;
      } catch (error) {
        throw translate("complete", error);
      }
    },

    async release(key, token) {
      try {
        await pool.query(RELEASE, [key, token]);
      } catch (error) {
        throw translate("release", error);
      }
    },

    async prune() {
      try {
        const time = at();
        let total = 0;
        for (;;) {
          const { rowCount } = await pool.query(PRUNE, [time, pruneBatchSize]);
          total += rowCount ?? 0;
          if ((rowCount ?? 0) < pruneBatchSize) return total;
        }
      } catch (error) {
        throw translate("prune", error);
      }
    },
  };
}
