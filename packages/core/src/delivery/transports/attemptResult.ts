// Builds TransportResults: a success without a response status (function, NATS), the one
// failed result every transport and the worker give when no response arrived, and a failure
// classified by the transport itself (a gRPC status, a WebSocket nack).
import { performance } from "node:perf_hooks";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { isoTime } from "../../core/isoTime.js";
import { MAX_RESPONSE_BODY_BYTES } from "../../model/constants.js";
import { type ResponseClassification, type RetryReason, truncateBody } from "../responseRules.js";
import type { TransportResult } from "./types.js";

export interface AttemptTimer {
  /** The clock's time at the start, in ms and as ISO 8601. */
  startedMs: number;
  startedAt: string;
  /** `performance.now()` at the start. */
  monotonicStart: number;
  /** Monotonic milliseconds since the attempt started. */
  elapsed(): number;
}

export function startAttempt(clock: Clock): AttemptTimer {
  const startedMs = clock.now();
  const monotonicStart = performance.now();
  return {
    startedMs,
    startedAt: isoTime(startedMs),
    monotonicStart,
    elapsed: () => Math.round(performance.now() - monotonicStart),
  };
}

/** A success whose `responseBody` (the function's return value, the PubAck) is kept ≤ the limit. */
export function succeededAttempt(
  timer: AttemptTimer,
  responseBody: string | null,
  limit: number = MAX_RESPONSE_BODY_BYTES,
): TransportResult {
  const kept = responseBody === null ? null : truncateBody(responseBody, limit);
  return {
    attempt: {
      startedAt: timer.startedAt,
      durationMs: timer.elapsed(),
      succeeded: true,
      statusCode: null,
      responseHeaders: null,
      responseBody: kept?.text ?? null,
      error: null,
    },
    classification: { outcome: "success" },
    responseBodyTruncated: kept?.truncated ?? false,
  };
}

/** A failure without a response: always a retry (no status, so no `410` to disable with). */
export function failedAttempt(
  timer: AttemptTimer,
  error: string,
  reason: Extract<RetryReason, "timeout" | "network_error">,
): TransportResult {
  return answeredAttempt(timer, { error, classification: { outcome: "retry", reason } });
}

/** How an attempt that did not succeed ended: its error, outcome and what the receiver said. */
export interface AttemptFailure {
  error: string;
  classification: ResponseClassification;
  /** What the receiver answered (a nack frame), kept ≤ `limit`; none when it said nothing. */
  responseBody?: string;
}

/**
 * A failed attempt without an HTTP status, classified by the transport (a gRPC status, a
 * listener's nack), with the receiver's answer when there is one.
 */
export function answeredAttempt(
  timer: AttemptTimer,
  { error, classification, responseBody }: AttemptFailure,
  limit: number = MAX_RESPONSE_BODY_BYTES,
): TransportResult {
  const kept = responseBody === undefined ? null : truncateBody(responseBody, limit);
  return {
    attempt: {
      startedAt: timer.startedAt,
      durationMs: timer.elapsed(),
      succeeded: false,
      statusCode: null,
      responseHeaders: null,
      responseBody: kept?.text ?? null,
      error,
    },
    classification,
    responseBodyTruncated: kept?.truncated ?? false,
  };
}

/**
 * The endpoint's target as `parse` reads it, or the failed attempt of a target it refuses
 * (`request.invalid: url: …`, retried like any failure without a response).
 */
export function parseAttemptTarget<T>(
  timer: AttemptTimer,
  target: string,
  parse: (target: string) => T,
): { ok: true; target: T } | { ok: false; result: TransportResult } {
  try {
    return { ok: true, target: parse(target) };
  } catch (error) {
    const text = `request.invalid: ${thrownText(error, "url: invalid")}`;
    return { ok: false, result: failedAttempt(timer, text, "network_error") };
  }
}

/** The text of anything thrown, never empty. */
export function thrownText(error: unknown, fallback: string): string {
  if (error instanceof Error && error.message !== "") return error.message;
  if (typeof error === "string" && error !== "") return error;
  return fallback;
}

/**
 * Settles with `work`'s outcome, or with `{ timedOut: true }` once `timeoutMs` passes (after
 * aborting `controller`, so cooperative work can stop). `work` is never awaited past that.
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
): Promise<{ timedOut: false; value: T } | { timedOut: true }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`no result within ${timeoutMs} ms`, "TimeoutError"));
      resolve({ timedOut: true });
    }, timeoutMs);
  });
  try {
    const running = work(controller.signal).then((value) => ({ timedOut: false as const, value }));
    // A rejection after the deadline must not surface as an unhandled rejection.
    running.catch(() => {});
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
