// Maps PostgreSQL failures of the event store onto Herald's error codes: lost connections and
// an overloaded server are `store.unavailable` (retry later), constraint clashes the writer's
// own mistakes.

import { versionConflict } from "@heraldjs/core/internal/model/appendRules.js";
import type { ExpectedVersion } from "@heraldjs/core/internal/store/ports.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPgUnavailable } from "./unavailable.js";

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

interface AppendContext {
  stream: string;
  expected: ExpectedVersion;
  /** Re-reads the head after the failed transaction rolled back. */
  readHead(): Promise<number>;
}

/** Translates `error` thrown by an event store operation; HeraldErrors pass unchanged. */
export async function translatePgError(error: unknown, append?: AppendContext): Promise<unknown> {
  if (isHeraldError(error) || typeof error !== "object" || error === null) return error;
  const { code, constraint, message } = error as PgErrorLike;
  const text = typeof message === "string" ? message : "";
  if (code === "23505" && append !== undefined) {
    if (constraint === "events_event_id_key") {
      return new HeraldError(
        "event.duplicate_id",
        `An event id of this batch was stored in another stream at the same time`,
        { cause: error, details: { stream: append.stream } },
      );
    }
    if (constraint === "events_stream_version_key") {
      // Reachable only when a writer bypassed the stream lock; report it like any conflict.
      const actual = await append.readHead().catch(() => -1);
      const conflict = versionConflict(append.stream, append.expected, actual);
      return new HeraldError(conflict.code, conflict.message, {
        cause: error,
        details: conflict.details,
      });
    }
  }
  if (code === "22P05") {
    // jsonb refuses \u0000 in strings, which JSON itself allows.
    return new HeraldError("envelope.invalid", `Invalid envelope: ${text}`, {
      cause: error,
      details: append === undefined ? undefined : { stream: append.stream },
    });
  }
  if (isPgUnavailable(error)) {
    return new HeraldError("store.unavailable", `PostgreSQL event store: ${text || code}`, {
      cause: error,
    });
  }
  return error;
}
