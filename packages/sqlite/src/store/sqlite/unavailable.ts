// One rule for every SQLite store (and the profile, ../backends.ts): which failures mean "the
// database cannot take this now" (HeraldError store.unavailable, retry later) rather than a bug
// or a bad request. Kept free of the driver so that anything may import it.
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

// Primary result codes (an extended code such as SQLITE_IOERR_WRITE or SQLITE_BUSY_SNAPSHOT
// counts as its primary one): a lock held past the busy timeout, the disk (I/O error, full,
// read-only, the file gone or unopenable), memory, and a WAL locking race that persisted.
// Not: CONSTRAINT, ERROR (SQL, a missing table), MISMATCH, TOOBIG, RANGE, MISUSE — bugs or bad
// input — nor CORRUPT and NOTADB: a damaged or foreign file, which waiting does not fix.
const UNAVAILABLE_RESULTS = new Set([
  "BUSY",
  "LOCKED",
  "IOERR",
  "FULL",
  "READONLY",
  "CANTOPEN",
  "NOMEM",
  "PROTOCOL",
]);

// The filesystem refusing writes, as Node reports it (a file written next to the database).
const FILESYSTEM_CODES = new Set(["ENOSPC", "EDQUOT", "EIO", "EROFS"]);

// better-sqlite3 on a closed connection.
const CLOSED = /database connection is not open/;

export function isSqliteUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if (isHeraldError(error)) return error.code === "store.unavailable";
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    const primary = /^SQLITE_([A-Z]+)/.exec(code)?.[1];
    if (primary !== undefined) return UNAVAILABLE_RESULTS.has(primary);
    if (FILESYSTEM_CODES.has(code)) return true;
  }
  return error instanceof TypeError && typeof message === "string" && CLOSED.test(message);
}
