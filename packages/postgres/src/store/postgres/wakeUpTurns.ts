// Which of a schema's listening workers claims what a notice announces. Without a choice every
// notice wakes every worker, and all but one of them run a claim that finds nothing: with two
// workers at 200 webhooks/s that was one empty claim per webhook. Each notice carries its
// transaction's id; each listener holds a shared advisory lock keyed by its schema (released
// when its connection ends) and reads, every few seconds, which backends hold it. The notice's
// id, hashed, picks one of them; the others hear it as a backup (see WakeUp).
import type { WakeUp } from "@heraldjs/core/internal/store/deliveryPorts.js";

export const DELIVERIES_CHANNEL = "herald_deliveries";

/** The notice's payload: the schema (so schemas sharing a database stay apart), then the turn. */
const NOTIFY_PAYLOAD = "current_schema() || ' ' || txid_current()";

/** The notice as an expression, for statements that notify among other work. */
export const NOTIFY_EXPRESSION = `pg_notify('${DELIVERIES_CHANNEL}', ${NOTIFY_PAYLOAD})`;

/** Wakes this schema's workers (sent at commit when run inside a transaction). */
export const NOTIFY_DELIVERIES = `SELECT ${NOTIFY_EXPRESSION}`;

/** First key of the listeners' advisory lock ("HERD"); the second is the schema's. */
export const LISTENERS_LOCK_CLASS = 0x48455244;

/** Second key of the listeners' advisory lock: FNV-1a of the schema name, 31 bits. */
export function listenersLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < schema.length; i++) {
    hash ^= schema.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}

/** Takes the lock for the session; shared, so it never waits (nothing takes it exclusively). */
export const TAKE_LISTENERS_LOCK = "SELECT pg_try_advisory_lock_shared($1, $2) AS taken";

/** The backends that hold the lock in this database, ascending: the schema's listeners. */
export const READ_LISTENERS = `SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY pid`;

const DIGITS = /^[0-9]{1,16}$/;

/**
 * What a notice on DELIVERIES_CHANNEL asks of the listener `self` among `listeners` (backend
 * ids, ascending): null when it is another schema's; `claim` when it is this listener's turn, or
 * when no choice can be made (a payload without a turn, as older Herald sends; a listener not
 * yet among the lock's holders; a single listener); `backup` when another listener's turn.
 */
export function wakeUpFor(
  payload: string,
  schema: string,
  listeners: readonly number[],
  self: number,
): WakeUp | null {
  const space = payload.lastIndexOf(" ");
  if (space < 0) return payload === schema ? "claim" : null;
  if (payload.slice(0, space) !== schema) return null;
  const position = listeners.indexOf(self);
  if (listeners.length < 2 || position < 0) return "claim";
  const digits = payload.slice(space + 1);
  const turn = DIGITS.test(digits) ? Number(digits) : Number.NaN;
  if (!Number.isSafeInteger(turn)) return "claim";
  return turnOf(turn, listeners.length) === position ? "claim" : "backup";
}

/**
 * Fibonacci hashing of the turn's low 32 bits onto [0, count): transaction ids come in steps
 * set by whatever else commits between two notices, and a plain `turn % count` would send
 * every notice to the same listener whenever that step is a multiple of the count.
 */
export function turnOf(turn: number, count: number): number {
  const mixed = Math.imul(turn >>> 0, 0x9e3779b1) >>> 0;
  return Math.floor((mixed / 0x1_0000_0000) * count);
}
