// HTTP transport: one signed POST per attempt through a shared, SSRF-guarded undici keep-alive pool.
import { performance } from "node:perf_hooks";
import { type Dispatcher, request } from "undici";
import { readPackageVersion } from "../../cli/version.js";
import { type Clock, systemClock } from "../../core/clock.js";
import { HeraldError, isHeraldError } from "../../core/errors.js";
import {
  classifyResponse,
  DEFAULT_BODY_LIMIT_BYTES,
  type RetryAfterBounds,
  truncateBody,
} from "../responseRules.js";
import { createSsrfGuard, type SsrfGuard } from "../ssrfGuard.js";
import { buildRequestHeaders, flattenResponseHeaders } from "./requestHeaders.js";
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

/** Reads at most `limit` (+ a few) bytes, then stops: the rest is never read. */
async function readLimited(
  body: Dispatcher.ResponseData["body"],
  limit: number,
): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const cap = limit + UTF8_LOOKAHEAD;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    // Leaving the loop destroys the stream (and its connection): nothing more comes in.
    if (size >= cap) return { bytes: Buffer.concat(chunks, size), complete: false };
  }
  return { bytes: Buffer.concat(chunks, size), complete: true };
}

export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const {
    clock = systemClock,
    maxResponseBytes = DEFAULT_BODY_LIMIT_BYTES,
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

  // The target's protocol, parsed once per target rather than once per send (most deliveries
  // of a burst go to the same few endpoints). Throws TypeError for a target that is no URL.
  let lastTarget: string | undefined;
  let lastProtocol = "";
  function protocolOf(target: string): string {
    if (target !== lastTarget) {
      lastProtocol = new URL(target).protocol;
      lastTarget = target;
    }
    return lastProtocol;
  }

  async function send({
    delivery,
    message,
    endpoint,
  }: TransportSendInput): Promise<TransportResult> {
    const nowMs = clock.now();
    const startedAt = new Date(nowMs).toISOString();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const fail = (error: string, cause: unknown): TransportResult => {
      const classification = classifyResponse({ error: cause, now: clock.now(), ...retryAfter });
      return {
        attempt: {
          startedAt,
          durationMs: elapsed(),
          succeeded: false,
          statusCode: null,
          responseHeaders: null,
          responseBody: null,
          error,
        },
        classification,
        responseBodyTruncated: false,
      };
    };

    const body = Buffer.from(JSON.stringify(message.payload ?? null), "utf8");
    let headers: Record<string, string>;
    try {
      const protocol = protocolOf(endpoint.target);
      if (protocol !== "http:" && protocol !== "https:") {
        return fail(`request.invalid: unsupported protocol ${protocol}`, new Error("invalid"));
      }
      headers = buildRequestHeaders({
        extra: endpoint.headers,
        herald: {
          "content-type": "application/json",
          "user-agent": userAgent,
          "x-herald-delivery-id": delivery.id,
          "x-herald-event-type": message.type,
        },
        signing: signingHeaders({ endpoint, messageId: message.id, body, nowMs }),
      });
    } catch (error) {
      if (error instanceof TypeError) return fail("request.invalid: target is not a URL", error);
      const code = isHeraldError(error) ? `${error.code} ` : "";
      const text = error instanceof Error ? error.message : "could not sign";
      return fail(`signing: ${code}${text}`, error);
    }

    const timeoutMs = endpoint.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    // One deadline for the whole attempt: connect, headers and the (limited) body read.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(timeoutError(timeoutMs), "TimeoutError"));
    }, timeoutMs);
    try {
      const response = await request(endpoint.target, {
        method: "POST",
        headers,
        body,
        dispatcher: agent,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const responseHeaders = flattenResponseHeaders(response.headers);
      let error: string | null = null;
      let bytes: Uint8Array = new Uint8Array(0);
      let complete = true;
      try {
        if (response.headers["content-length"] === "0") {
          // Nothing to keep (the usual 2xx): let undici finish the empty body, no reader.
          await response.body.dump();
        } else {
          ({ bytes, complete } = await readLimited(response.body, maxResponseBytes));
        }
      } catch (bodyError) {
        // The status already arrived and decides the outcome; the log keeps what went wrong.
        error = timedOut ? timeoutError(timeoutMs) : describeSendError(bodyError, timeoutMs);
      }
      const kept = truncateBody(bytes, maxResponseBytes);
      const classification = classifyResponse({
        status: response.statusCode,
        headers: responseHeaders,
        now: clock.now(),
        ...retryAfter,
      });
      return {
        attempt: {
          startedAt,
          durationMs: elapsed(),
          succeeded: classification.outcome === "success",
          statusCode: response.statusCode,
          responseHeaders,
          responseBody: kept.text,
          error,
        },
        classification,
        responseBodyTruncated: kept.truncated || !complete,
      };
    } catch (error) {
      if (timedOut)
        return fail(timeoutError(timeoutMs), new DOMException("timeout", "TimeoutError"));
      return fail(describeSendError(error, timeoutMs), error);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    send,
    close: () => agent.close(),
  };
}
