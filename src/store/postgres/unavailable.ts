// One rule for every PostgreSQL store: which driver failures mean "the database cannot be
// reached right now" (HeraldError store.unavailable, retry later) rather than a bad request.

const NODE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
]);

// SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention (admin
// shutdown, a query cancelled by a timeout), 58 system error.
const UNAVAILABLE_CLASSES = new Set(["08", "53", "57", "58"]);
// 25P03: the server ended a session left idle inside a transaction (its client stalled).
const UNAVAILABLE_CODES = new Set(["25P03"]);

// pg reports a connection that died mid-query, a pool already ended, a connect timeout and its
// client-side query timeout (no answer at all: the server is frozen or cut off) without a code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|pool after calling end|timeout exceeded when trying to connect|Query read timeout/i;

export function isPgUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    if (NODE_NETWORK_CODES.has(code)) return true;
    if (code.length === 5 && UNAVAILABLE_CLASSES.has(code.slice(0, 2))) return true;
    if (UNAVAILABLE_CODES.has(code)) return true;
  }
  return typeof message === "string" && UNAVAILABLE_MESSAGES.test(message);
}
