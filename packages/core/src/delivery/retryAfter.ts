// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, parsed strictly, then clamped to bounds.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** A receiver asking for less than this is waited for this long anyway (no hot retry loop). */
export const DEFAULT_MIN_RETRY_AFTER_MS = 1_000;
/** A receiver asking for more than this is retried after this long (a delivery is not parked for days). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 3_600_000;

export interface RetryAfterBounds {
  /** Default DEFAULT_MIN_RETRY_AFTER_MS (1 s). */
  minRetryAfterMs?: number;
  /** Default DEFAULT_MAX_RETRY_AFTER_MS (1 h). */
  maxRetryAfterMs?: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const LONG_DAY = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// Sun, 06 Nov 1994 08:49:37 GMT (IMF-fixdate, the one senders must use)
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, "i");
// Sunday, 06-Nov-94 08:49:37 GMT (obsolete RFC 850, recipients must accept)
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, "i");
// Sun Nov  6 08:49:37 1994 (obsolete asctime, recipients must accept; always UTC)
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, "i");
const DELTA_SECONDS = /^\d+$/;

function utc(year: number, month: string, day: string, h: string, m: string, s: string) {
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  const [dd, hh, mm, ss] = [day, h, m, s].map((part) => Number(part.trim())) as [
    number,
    number,
    number,
    number,
  ];
  if (hh > 23 || mm > 59 || ss > 60) return null; // 60: a leap second
  const ms = Date.UTC(year, monthIndex, dd, hh, mm, Math.min(ss, 59));
  // Date.UTC rolls 31 Feb over into March; a real calendar date round-trips.
  const date = new Date(ms);
  if (date.getUTCDate() !== dd || date.getUTCMonth() !== monthIndex) return null;
  // Date.UTC maps years 0–99 to 1900–1999; four-digit years below 100 are not worth supporting.
  return year < 100 ? null : ms;
}

/** Milliseconds since the epoch for an HTTP-date in any of its three forms, or null. */
function parseHttpDate(value: string, now: number): number | null {
  let match = IMF_FIXDATE.exec(value);
  if (match !== null) {
    const [, day, month, year, h, m, s] = match as unknown as string[];
    return utc(Number(year), month!, day!, h!, m!, s!);
  }
  match = RFC850_DATE.exec(value);
  if (match !== null) {
    const [, day, month, yy, h, m, s] = match as unknown as string[];
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the previous century.
    const nowYear = new Date(now).getUTCFullYear();
    let year = nowYear - (nowYear % 100) + Number(yy);
    if (year > nowYear + 50) year -= 100;
    return utc(year, month!, day!, h!, m!, s!);
  }
  match = ASCTIME_DATE.exec(value);
  if (match !== null) {
    const [, month, day, h, m, s, year] = match as unknown as string[];
    return utc(Number(year), month!, day!, h!, m!, s!);
  }
  return null;
}

/**
 * The wait a Retry-After value asks for, in milliseconds from `now` (0 for a date in the
 * past), before any clamping; null when the value is neither delta-seconds nor an HTTP-date.
 * Fractions ("1.5"), signs, units and lists are not Retry-After and give null.
 */
export function parseRetryAfter(value: string, now: number): number | null {
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  const at = parseHttpDate(trimmed, now);
  return at === null ? null : Math.max(0, at - now);
}

/** Validated bounds, defaults filled in; config.invalid unless 0 ≤ min ≤ max (finite). */
export function retryAfterBounds(bounds: RetryAfterBounds = {}): { min: number; max: number } {
  const min = bounds.minRetryAfterMs ?? DEFAULT_MIN_RETRY_AFTER_MS;
  const max = bounds.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const finite = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (!finite(min) || !finite(max) || min > max) {
    throw new HeraldError(
      "config.invalid",
      "Invalid Retry-After bounds: need 0 ≤ minRetryAfterMs ≤ maxRetryAfterMs, finite",
      { details: { minRetryAfterMs: min, maxRetryAfterMs: max } },
    );
  }
  return { min, max };
}

/** The parsed wait clamped into [min, max] and rounded up to whole milliseconds. */
export function clampRetryAfterMs(ms: number, bounds: { min: number; max: number }): number {
  return Math.ceil(Math.min(Math.max(ms, bounds.min), bounds.max));
}
