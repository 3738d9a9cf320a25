// One rule for every PostgreSQL store (and the profile, ../backends.ts): which driver failures
// mean "the database cannot be reached or take this now" (HeraldError store.unavailable, retry
// later) rather than a bug or a bad request. Kept free of the driver so that anything may
// import it.
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

// Node's socket errors: the server refused, reset or never answered the connection, the network
// or the name is unreachable for now.
const NODE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
]);

// SQLSTATE classes: 08 connection, 53 insufficient resources (disk full, out of memory, too many
// connections), 57 operator intervention (admin shutdown, a query cancelled by a timeout), 58
// system error (I/O).
const UNAVAILABLE_CLASSES = new Set(["08", "53", "57", "58"]);
// 25P03: the server ended a session left idle inside a transaction (its client stalled).
// 25006: a read-only transaction (a standby, or a primary set read-only): writes refused for now.
// 55P03: a lock not obtained within lock_timeout — busy, as SQLite's SQLITE_BUSY.
// Not: 40001/40P01 (serialization failure, deadlock), which their callers retry at once.
const UNAVAILABLE_CODES = new Set(["25P03", "25006", "55P03"]);

// pg reports a connection that died mid-query, a client or pool already ended, a connect timeout
// and its client-side query timeout (no answer at all: the server is frozen or cut off) without
// a code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed and is not queryable|pool after calling end|timeout exceeded when trying to connect|Query read timeout/i;

export function isPgUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if (isHeraldError(error)) return error.code === "store.unavailable";
  const { code, message, syscall } = error as {
    code?: unknown;
    message?: unknown;
    syscall?: unknown;
  };
  if (typeof code === "string") {
    if (NODE_NETWORK_CODES.has(code)) return true;
    // A Unix socket that is not there: the server is (re)starting.
    if (code === "ENOENT" && syscall === "connect") return true;
    if (code.length === 5 && UNAVAILABLE_CLASSES.has(code.slice(0, 2))) return true;
    if (UNAVAILABLE_CODES.has(code)) return true;
  }
  return typeof message === "string" && UNAVAILABLE_MESSAGES.test(message);
}
