// What an HTTP attempt's outcome means for the delivery (Standard Webhooks rules), as a pure function.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { MAX_RESPONSE_BODY_BYTES } from "../model/constants.js";
import {
  clampRetryAfterMs,
  parseRetryAfter,
  type RetryAfterBounds,
  retryAfterBounds,
} from "./retryAfter.js";

export {
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_MIN_RETRY_AFTER_MS,
  parseRetryAfter,
  type RetryAfterBounds,
} from "./retryAfter.js";

/** A fetch `Headers` or a plain record (undici `request`, node:http); names match case-insensitively. */
type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What one send produced, as `classifyResponse` reads it (the store records its own `AttemptOutcome`). */
export interface SendResult extends RetryAfterBounds {
  /** The response status, when a response arrived. It wins over `error` (e.g. a body read that failed after a 200). */
  status?: number | null;
  headers?: HeadersLike;
  /** What the send threw, when no response arrived (network error, timeout, refused address). */
  error?: unknown;
  /** When the response arrived; an HTTP-date Retry-After is measured from here. */
  now: number | Date;
}

export type RetryReason =
  | "redirect" // 3xx: redirects are not followed
  | "rate_limited" // 429
  | "unavailable" // 502, 503, 504
  | "http_error" // any other non-2xx
  | "timeout"
  | "network_error";

export type ResponseClassification =
  | { outcome: "success" }
  | { outcome: "disable_endpoint"; reason: "gone" }
  /**
   * The listener refused the delivery for good (a gRPC status other than UNAVAILABLE,
   * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED; a WebSocket listener's `nack` without `retry`): the
   * delivery is dead-lettered at once, the endpoint stays enabled. HTTP never gives it.
   */
  | { outcome: "reject"; reason: "rejected" }
  | { outcome: "retry"; reason: RetryReason; retryAfterMs?: number };

/** Statuses whose Retry-After is honoured (within bounds). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Why a send without a response failed: `timeout` when what it threw was one. */
export function failureReason(error: unknown): "timeout" | "network_error" {
  return isTimeout(error) ? "timeout" : "network_error";
}

function isTimeout(error: unknown): boolean {
  // undici and AbortSignal.timeout() wrap the telling error in `cause`; look a few levels down.
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === "TimeoutError" || (typeof code === "string" && TIMEOUT_CODES.has(code))) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function headerValue(headers: HeadersLike | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    // A repeated header: the first value counts.
    const first: unknown = Array.isArray(value) ? value[0] : value;
    return typeof first === "string" ? first : undefined;
  }
  return undefined;
}

/**
 * 2xx success · 410 disable the endpoint · 429/502/503/504 retry, after Retry-After when given
 * and valid (clamped into [minRetryAfterMs, maxRetryAfterMs]) · 3xx retry (never followed) ·
 * any other status, network error or timeout: retry. Without `retryAfterMs` the retry schedule
 * decides the wait.
 */
export function classifyResponse(input: SendResult): ResponseClassification {
  const bounds = retryAfterBounds(input);
  const { status } = input;
  if (status === undefined || status === null) {
    return { outcome: "retry", reason: failureReason(input.error) };
  }
  if (!Number.isInteger(status)) return { outcome: "retry", reason: "http_error" };
  if (status >= 200 && status <= 299) return { outcome: "success" };
  if (status === 410) return { outcome: "disable_endpoint", reason: "gone" };
  if (status >= 300 && status <= 399) return { outcome: "retry", reason: "redirect" };
  if (!RETRY_AFTER_STATUSES.has(status)) return { outcome: "retry", reason: "http_error" };

  const reason = status === 429 ? "rate_limited" : "unavailable";
  const header = headerValue(input.headers, "retry-after");
  const now = typeof input.now === "number" ? input.now : input.now.getTime();
  const wait = header === undefined ? null : parseRetryAfter(header, now);
  return wait === null
    ? { outcome: "retry", reason }
    : { outcome: "retry", reason, retryAfterMs: clampRetryAfterMs(wait, bounds) };
}

export interface TruncatedBody {
  /** The kept prefix, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  truncated: boolean;
  /** Size of the whole body in UTF-8 bytes. */
  totalBytes: number;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * At most `limit` bytes of a response body for the attempt log, cut before a character that
 * would not fit whole (never half a UTF-8 sequence), with `truncated` saying whether anything
 * was dropped.
 */
export function truncateBody(
  body: Uint8Array | string,
  limit: number = MAX_RESPONSE_BODY_BYTES,
): TruncatedBody {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new HeraldError("config.invalid", "Body limit must be a non-negative integer of bytes", {
      details: { limit },
    });
  }
  if (typeof body === "string") {
    const totalBytes = Buffer.byteLength(body, "utf8");
    if (totalBytes <= limit) return { text: body, truncated: false, totalBytes };
    // encodeInto writes whole code points only, so `read` ends on a character boundary.
    const { read } = encoder.encodeInto(body, new Uint8Array(limit));
    return { text: body.slice(0, read), truncated: true, totalBytes };
  }
  const totalBytes = body.length;
  if (totalBytes <= limit) return { text: decoder.decode(body), truncated: false, totalBytes };
  let cut = limit;
  // A continuation byte (10xxxxxx) at the cut means a character straddles it: drop its start too.
  while (cut > 0 && limit - cut < 3 && ((body[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return { text: decoder.decode(body.subarray(0, cut)), truncated: true, totalBytes };
}
