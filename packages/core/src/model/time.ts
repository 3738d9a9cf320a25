// Times given to the delivery store (epoch ms, Date, RFC 3339) become one canonical ISO form,
// so records compare as strings and every backend stores and returns the same instant.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import { isIsoDateTime } from "../core/isoDateTime.js";
import { isoTime } from "../core/isoTime.js";
import type { TimeInput } from "./deliveryRecords.js";

/** Milliseconds since the epoch of a TimeInput; throws `code` naming `field` for anything else. */
function toMillis(value: unknown, field: string, code: HeraldErrorCode = "query.invalid"): number {
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "string" && isIsoDateTime(value)) ms = Date.parse(value);
  else ms = Number.NaN;
  // Four-digit years keep toISOString fixed-width, which string comparison relies on.
  if (!Number.isFinite(ms) || ms < 0 || ms > 253_402_300_799_999) {
    throw new HeraldError(code, `${field} must be a time (epoch ms, Date or RFC 3339 string)`, {
      details: { field },
    });
  }
  return Math.floor(ms);
}

/** `2025-01-01T00:00:00.000Z`. */
export function toIso(value: unknown, field: string, code?: HeraldErrorCode): string {
  return isoTime(toMillis(value, field, code));
}

export function isoOrNull(value: unknown, field: string, code?: HeraldErrorCode): string | null {
  return value === null || value === undefined ? null : toIso(value, field, code);
}

/** The caller's `now`, or the clock's. */
export function nowMs(clock: Clock, now: TimeInput | undefined): number {
  return now === undefined ? toMillis(clock.now(), "clock.now()") : toMillis(now, "now");
}

/** The caller's `now`, or the clock's, in the canonical ISO form. */
export function isoNow(clock: Clock, now?: TimeInput): string {
  return isoTime(nowMs(clock, now));
}
