// HTTP transport: one signed POST per attempt through a shared, SSRF-guarded undici keep-alive pool.
import { performance } from "node:perf_hooks";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Dispatcher, util } from "undici";
import { readPackageVersion } from "../../core/version.js";
import { MAX_RESPONSE_BODY_BYTES } from "../../model/constants.js";
import {
  classifyResponse,
  failureReason,
  type RetryAfterBounds,
  truncateBody,
} from "../responseRules.js";
import { createSsrfGuard, type SsrfGuard } from "../ssrfGuard.js";
import { type AttemptTimer, failedAttempt, startAttempt } from "./attemptResult.js";
import { buildRequestHeaders } from "./requestHeaders.js";
import { describeSendError, timeoutError } from "./sendErrors.js";
import { signingHeaders } from "./signingHeaders.js";
import type { Transport, TransportResult, TransportSendInput } from "./types.js";

export interface HttpTransportOptions {
  /** The SSRF guard whose connect-time check every connection goes through. */
  guard?: SsrfGuard;
  /** Used only without `guard`: CIDRs the default guard lets through (e.g. ["127.0.0.0/8"]). */
  ssrfAllow?: string | readonly string[];
  /** Timestamps (`startedAt`, `webhook-timestamp`, secret expiry, Retry-After dates). */
  clock?: Clock;
  /** Default `Herald/<package version>`. */
  userAgent?: string;
  /** Response bytes kept for the attempt log; reading stops past it. Default 20 KiB. */
  maxResponseBytes?: number;
  /** Connections per origin in the keep-alive pool; default unlimited. */
  connections?: number;
  /** Bounds a Retry-After is clamped into (default 1 s … 1 h). */
  retryAfter?: RetryAfterBounds;
}

export type HttpTransport = Transport;

let packageVersion: string | undefined;
function defaultUserAgent(): string {
  packageVersion ??= readPackageVersion();
  return `Herald/${packageVersion}`;
}

// Room past the limit so truncateBody can tell a cut character from a whole one.
const UTF8_LOOKAHEAD = 4;

const EMPTY = new Uint8Array(0);

/** Where a target URL's requests go, parsed once per target as undici's `request()` would. */
interface ParsedTarget {
  protocol: string;
  origin: string;
  /** pathname + search (the fragment is never sent). */
  path: string;
}

const MAX_CACHED_TARGETS = 1024;

/** How one dispatched request ended: an answer (maybe with a body error) or no answer. */
type Outcome =
  | {
      ok: true;
      statusCode: number;
      headers: Record<string, string>;
      bytes: Uint8Array;
      complete: boolean;
      bodyError: unknown;
    }
  | { ok: false; error: unknown };

/**
 * Response headers as the attempt log keeps them (what undici's `parseHeaders` then
 * `flattenResponseHeaders` gave): lowercase names in first-seen order, a repeated header's
 * values joined with ", ", read as latin1.
 */
export function rawResponseHeaders(
  raw: readonly (Buffer | string | readonly Buffer[])[],
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // undici's lookup: a known header name comes back as a constant, without decoding it.
    const key = util.headerNameToString(raw[i] as Buffer | string);
    const rawValue = raw[i + 1] as Buffer | string | readonly Buffer[];
    const value =
      typeof rawValue === "string"
        ? rawValue
        : Array.isArray(rawValue)
          ? (rawValue as readonly Buffer[]).map((v) => v.toString("latin1")).join(", ")
          : (rawValue as Buffer).toString("latin1");
    if (Object.hasOwn(flat, key)) {
      flat[key] = `${flat[key]}, ${value}`;
    } else if (key !== "__proto__") {
      // (A `__proto__` header never made it into the log: assigning it was a no-op.)
      flat[key] = value;
    }
  }
  return flat;
}

/**
 * One request's undici handler (the dispatcher's own callback interface: no AbortSignal, no
 * response stream, no per-request promise machinery inside undici). Keeps at most `cap` body
 * bytes, then aborts the request, which closes its connection, as leaving a body read did.
 */
class SendHandler implements Dispatcher.DispatchHandler {
  settle: (outcome: Outcome) => void = noop;
  abort: ((reason?: Error) => void) | null = null;
  /** Set when the deadline passed before the request reached a connection. */
  pendingAbort: Error | null = null;
  statusCode = 0;
  headers: Record<string, string> | null = null;
  chunks: Buffer[] | null = null;
  size = 0;
  done = false;
  /** Deadline bookkeeping (see DeadlineQueue). */
  deadline = 0;
  timedOut = false;

  constructor(readonly cap: number) {}

  onConnect(abort: (reason?: Error) => void): void {
    if (this.pendingAbort !== null) {
      abort(this.pendingAbort);
      return;
    }
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx (e.g. 100 Continue) is informational: the answer is still to come.
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    this.headers = rawResponseHeaders(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.cap) {
      // Enough kept: stop reading; the rest of the body (and its connection) is dropped.
      this.finishResponse(false, null);
      this.abort?.();
    }
    return true;
  }

  onComplete(): void {
    this.finishResponse(true, null);
  }

  onError(error: Error): void {
    if (this.done) return;
    if (this.headers !== null) {
      // The status already arrived and decides the outcome; the log keeps what went wrong.
      this.finishResponse(true, error, true);
      return;
    }
    this.done = true;
    this.settle({ ok: false, error });
  }

  private finishResponse(complete: boolean, bodyError: unknown, dropBody = false): void {
    if (this.done) return;
    this.done = true;
    const chunks = this.chunks;
    const bytes =
      dropBody || chunks === null
        ? EMPTY
        : chunks.length === 1
          ? (chunks[0] as Buffer)
          : Buffer.concat(chunks, this.size);
    this.settle({
      ok: true,
      statusCode: this.statusCode,
      headers: this.headers ?? {},
      bytes,
      complete,
      bodyError,
    });
  }

  /** The attempt's deadline passed: abort wherever the request is. */
  expire(reason: Error): void {
    this.timedOut = true;
    if (this.done) return;
    if (this.abort !== null) this.abort(reason);
    else this.pendingAbort = reason;
  }
}

function noop(): void {}

/** Names Herald sets itself (lowercase); a signing header of the same name takes their place. */
const HERALD_HEADER_NAMES: ReadonlySet<string> = new Set([
  "content-type",
  "user-agent",
  "x-herald-delivery-id",
  "x-herald-event-type",
]);

/**
 * One timer for every in-flight attempt instead of a timer (and an AbortController) per send.
 * Deadlines of one timeout length arrive in order, so each length is a FIFO (a Set keeps
 * insertion order and deletes in O(1)); the timer is set for the earliest head.
 */
class DeadlineQueue {
  private readonly byTimeout = new Map<number, Set<SendHandler>>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Number.POSITIVE_INFINITY;
  private size = 0;

  add(handler: SendHandler, timeoutMs: number, now: number): void {
    handler.deadline = now + timeoutMs;
    let queue = this.byTimeout.get(timeoutMs);
    if (queue === undefined) {
      queue = new Set();
      this.byTimeout.set(timeoutMs, queue);
    }
    queue.add(handler);
    this.size += 1;
    if (handler.deadline < this.armedFor) this.arm(handler.deadline, now);
  }

  remove(handler: SendHandler, timeoutMs: number): void {
    const queue = this.byTimeout.get(timeoutMs);
    if (queue?.delete(handler) !== true) return;
    this.size -= 1;
    if (queue.size === 0) this.byTimeout.delete(timeoutMs);
    if (this.size === 0 && this.timer !== null) {
      // Nothing left to watch: a pending timer would only keep the process alive.
      clearTimeout(this.timer);
      this.timer = null;
      this.armedFor = Number.POSITIVE_INFINITY;
    }
  }

  private arm(deadline: number, now: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(deadline - now)));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: [SendHandler, number][] = [];
    for (const [timeoutMs, queue] of this.byTimeout) {
      for (const handler of queue) {
        if (handler.deadline > now) {
          if (handler.deadline < next) next = handler.deadline;
          break;
        }
        expired.push([handler, timeoutMs]);
      }
    }
    for (const [handler, timeoutMs] of expired) {
      this.remove(handler, timeoutMs);
      handler.expire(new DOMException(timeoutError(timeoutMs), "TimeoutError"));
    }
    if (next !== Number.POSITIVE_INFINITY && this.size > 0) this.arm(next, now);
  };
}

export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const {
    clock = systemClock,
    maxResponseBytes = MAX_RESPONSE_BODY_BYTES,
    connections,
    retryAfter = {},
  } = options;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw new HeraldError("config.invalid", "maxResponseBytes must be a non-negative integer", {
      details: { maxResponseBytes },
    });
  }
  const userAgent = options.userAgent ?? defaultUserAgent();
  const guard = options.guard ?? createSsrfGuard({ allow: options.ssrfAllow ?? [] });
  // No redirect interceptor: a 3xx comes back as it is and counts as a failure.
  const agent = guard.createGuardedAgent({
    pipelining: 1,
    ...(connections === undefined ? {} : { connections }),
  });

  // Targets parsed once, not once per send (most deliveries of a burst go to the same few
  // endpoints). `new URL` throws TypeError for a target that is no URL.
  const targets = new Map<string, ParsedTarget>();
  function parseTarget(target: string): ParsedTarget {
    let parsed = targets.get(target);
    if (parsed === undefined) {
      const url = new URL(target);
      parsed = {
        protocol: url.protocol,
        origin: url.origin,
        path: url.search ? `${url.pathname}${url.search}` : url.pathname,
      };
      if (targets.size >= MAX_CACHED_TARGETS) targets.clear();
      targets.set(target, parsed);
    }
    return parsed;
  }

  const deadlines = new DeadlineQueue();
  const cap = maxResponseBytes + UTF8_LOOKAHEAD;

  /** undici's flat header list: [name, value, name, value, …], same names and order as buildRequestHeaders. */
  function requestHeaders(
    endpoint: TransportSendInput["endpoint"],
    deliveryId: string,
    eventType: string,
    signing: Readonly<Record<string, string>>,
  ): string[] {
    const list = [
      "content-type",
      "application/json",
      "user-agent",
      userAgent,
      "x-herald-delivery-id",
      deliveryId,
      "x-herald-event-type",
      eventType,
    ];
    let plain = true;
    for (const _ in endpoint.headers) {
      plain = false;
      break;
    }
    if (plain) {
      for (const name in signing) {
        // Not lowercase, or overriding a Herald header: the general merge below decides.
        if (HERALD_HEADER_NAMES.has(name) || name.toLowerCase() !== name) {
          plain = false;
          break;
        }
        list.push(name, signing[name] as string);
      }
      if (plain) return list;
    }
    const merged = buildRequestHeaders({
      extra: endpoint.headers,
      herald: {
        "content-type": "application/json",
        "user-agent": userAgent,
        "x-herald-delivery-id": deliveryId,
        "x-herald-event-type": eventType,
      },
      signing,
    });
    const flat: string[] = [];
    for (const name of Object.keys(merged)) flat.push(name, merged[name] as string);
    return flat;
  }

  async function send({
    delivery,
    message,
    endpoint,
  }: TransportSendInput): Promise<TransportResult> {
    const timer = startAttempt(clock);
    const timeoutMs = endpoint.timeoutMs;

    const body = Buffer.from(JSON.stringify(message.payload ?? null), "utf8");
    let headers: string[];
    let target: ParsedTarget;
    try {
      target = parseTarget(endpoint.target);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        return failed(timer, `request.invalid: unsupported protocol ${target.protocol}`, null);
      }
      headers = requestHeaders(
        endpoint,
        delivery.id,
        message.type,
        signingHeaders({ endpoint, messageId: message.id, body, nowMs: timer.startedMs }),
      );
    } catch (error) {
      if (error instanceof TypeError) {
        return failed(timer, "request.invalid: target is not a URL", error);
      }
      const code = isHeraldError(error) ? `${error.code} ` : "";
      const text = error instanceof Error ? error.message : "could not sign";
      return failed(timer, `signing: ${code}${text}`, error);
    }

    // One deadline for the whole attempt: connect, headers and the (limited) body read.
    const handler = new SendHandler(cap);
    const outcome = await new Promise<Outcome>((resolve) => {
      handler.settle = resolve;
      deadlines.add(handler, timeoutMs, timer.monotonicStart);
      agent.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: "POST",
          headers,
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    });
    deadlines.remove(handler, timeoutMs);

    if (!outcome.ok) {
      if (handler.timedOut) return failedAttempt(timer, timeoutError(timeoutMs), "timeout");
      return failed(timer, describeSendError(outcome.error, timeoutMs), outcome.error);
    }
    const { statusCode, headers: responseHeaders } = outcome;
    const error =
      outcome.bodyError === null
        ? null
        : handler.timedOut
          ? timeoutError(timeoutMs)
          : describeSendError(outcome.bodyError, timeoutMs);
    const kept = truncateBody(outcome.bytes, maxResponseBytes);
    const classification = classifyResponse({
      status: statusCode,
      headers: responseHeaders,
      now: clock.now(),
      ...retryAfter,
    });
    return {
      attempt: {
        startedAt: timer.startedAt,
        durationMs: timer.elapsed(),
        succeeded: classification.outcome === "success",
        statusCode,
        responseHeaders,
        responseBody: kept.text,
        error,
      },
      classification,
      responseBodyTruncated: kept.truncated || !outcome.complete,
    };
  }

  /** No response: a timeout when `cause` is one, else a network error. */
  function failed(timer: AttemptTimer, error: string, cause: unknown): TransportResult {
    return failedAttempt(timer, error, failureReason(cause));
  }

  // Idempotent: undici rejects a second close of the same agent.
  let closing: Promise<void> | undefined;
  return {
    send,
    close: () => {
      closing ??= agent.close();
      return closing;
    },
  };
}
