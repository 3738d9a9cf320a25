// Public types of the inbound receiver: its options, what a handler receives and returns, and
// the framework-neutral request/response pair every adapter translates to and from.
import type { Clock } from "../core/clock.js";
import type { HeraldError } from "../core/errors.js";
import type { SchemeSpec } from "../signing/registry.js";
import type { HeaderReader, HeadersLike, RawBody } from "../signing/types.js";
import type { DedupeStore } from "../store/dedupePort.js";

/** What the handler gets once the request is verified and its dedupe key claimed. */
export interface WebhookContext {
  /** The delivery's id: the provider's own, else the idempotency header, else `sha256:<hex>` of the body. */
  id: string;
  /** The key claimed in the dedupe store (namespaced by scheme). */
  dedupeKey: string;
  /** Case-insensitive header lookup: `headers("x-github-event")`. */
  headers: HeaderReader;
  /** The verified bytes, exactly as received. */
  rawBody: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON; throws `body.invalid_json` (answered 400) when it is not. */
  json<T = unknown>(): T;
  /** The signed timestamp in Unix seconds, for schemes that sign one. */
  timestamp?: number;
  /** When the request was received. */
  receivedAt: Date;
}

/** A handler may return nothing (200 `{"status":"processed","id"}`) or shape the response. */
export interface HandlerResult {
  /** Default 200. A non-2xx status releases the dedupe key, so the sender's retry is processed. */
  status?: number;
  /** A string is sent as is; anything else as JSON. Default `{"status":"processed","id"}`. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type WebhookHandler = (
  webhook: WebhookContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: an `async` handler that returns nothing is a Promise<void>
) => void | HandlerResult | Promise<void | HandlerResult>;

/** Where a reported error happened; everything but `complete` and `release` is also answered 5xx. */
export type ReceiverErrorStage = "config" | "store" | "handler" | "complete" | "release";

export interface ReceiverErrorContext {
  stage: ReceiverErrorStage;
  id?: string;
  dedupeKey?: string;
}

export interface ReceiverOptions {
  /** A built-in scheme name (`"standard"`, `"github"`, …) or a scheme object. */
  scheme: SchemeSpec;
  /** Every secret that may sign a request (several during a rotation). */
  secrets: string | readonly string[];
  /** Symmetric window around the receive time, in seconds; default 300. */
  toleranceSeconds?: number;
  /** Where seen deliveries are remembered; default a per-process memory store. */
  dedupe?: DedupeStore;
  /** How long a processed delivery is remembered; default 259200 (3 days). */
  dedupeTtlSeconds?: number;
  /** How long a delivery may be processing before a retry may claim it again; default 300. */
  processingTimeoutSeconds?: number;
  /**
   * How to answer a copy that arrives while the first is still being processed:
   * `"duplicate"` (default) 200 `{"status":"duplicate"}`; `"retry"` 409 `delivery.in_progress`
   * with `Retry-After`, so the sender keeps the delivery until the first attempt has settled
   * (no loss if that attempt then fails).
   */
  whileProcessing?: "duplicate" | "retry";
  /** A header carrying the sender's idempotency key, used when the scheme has no id. */
  idempotencyHeader?: string;
  /** Prefix of every dedupe key; default the scheme's name. */
  dedupeNamespace?: string;
  /** Larger bodies are refused with 413 before any signature work; default 2 MiB. */
  maxBodyBytes?: number;
  clock?: Clock;
  handler: WebhookHandler;
  /** Told about failures (handler errors, store outages, misconfiguration); must not throw. */
  onError?: (error: HeraldError, context: ReceiverErrorContext) => void | Promise<void>;
}

export interface ReceiverRequest {
  headers: HeadersLike;
  /** The raw body, exactly as received. */
  body: RawBody;
  /** The full request URL (schemes that sign it, such as twilio). */
  url?: string;
  /** When the request was received, if it is handled later (after a queue). */
  receivedAt?: Date | number;
}

export interface ReceiverResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  handle(request: ReceiverRequest): Promise<ReceiverResponse>;
  /** Adapters refuse larger bodies (413) before reading them whole. */
  readonly maxBodyBytes: number;
}
