// Records of the delivery store (what it returns) and the inputs that create them. Camel-case
// TypeScript; the HTTP layer maps them to the snake_case wire shapes of DESIGN.md.
import type { JsonObject, JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import type { RetryPolicy } from "../core/retryPolicy.js";
import type { EndpointFilter, FilterJson } from "./endpointFilter.js";

/**
 * A point in time given to the store: epoch milliseconds (what `Clock.now()` returns), a Date,
 * or an RFC 3339 string. Records always carry times as ISO 8601 strings in UTC with
 * millisecond precision (`2025-01-01T00:00:00.000Z`), which sort as strings.
 */
export type TimeInput = number | Date | string;

/** A page of a list, newest or oldest first; pass `nextCursor` back as `cursor` to go on. */
export interface Page<T> {
  data: T[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
}

export interface PageOptions {
  /** 1–1000; default 50. */
  limit?: number;
  /** `nextCursor` of the previous page, from the same query (filters and order). */
  cursor?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------

export interface EventTypeRecord {
  /** Primary key, e.g. `order.created.v1`. */
  name: string;
  description: string;
  /** JSON Schema of the payload, when one is registered. */
  schema: JsonObject | null;
  deprecated: boolean;
  /**
   * True while the type is only known from the messages that used it (recorded the first time
   * one was stored); false once declared (API, herald.yaml), which keeps the counts.
   */
  auto: boolean;
  /** When the first stored message of this type was created; null when none was yet. */
  firstSeenAt: string | null;
  /** When the latest stored message of this type was created; null when none was yet. */
  lastSeenAt: string | null;
  /** Messages of this type stored (dispatched and received); a duplicate is not counted. */
  count: number;
  createdAt: string;
  /** Moved by declarations only, not by messages (it keys the payload validator's cache). */
  updatedAt: string;
}

export interface EventTypeInput {
  name: string;
  description?: string;
  schema?: JsonObject | null;
  deprecated?: boolean;
}

/** Where an endpoint's messages go; a new transport needs no migration (no CHECK on the column). */
export type EndpointTransport =
  | "http"
  | "nats"
  | "function"
  | "websocket"
  | "grpc"
  | "rabbitmq"
  | "redis-streams"
  | "nats-core"
  | "sqs"
  | "eventbridge";

/**
 * One signing secret of an endpoint. Rotation adds a new secret and gives the old one an
 * expiry: until then both sign, so receivers can switch over.
 */
export interface EndpointSecret {
  secret: string;
  /** After this time the secret no longer signs; null = no expiry. */
  expiresAt: string | null;
  createdAt: string;
}

export interface EndpointSecretInput {
  secret: string;
  expiresAt?: TimeInput | null;
  /** Default: now. */
  createdAt?: TimeInput;
}

export interface EndpointRecord {
  /** `ep_<ULID>` unless given at creation (config-declared endpoints keep a stable id). */
  id: string;
  /** Default `default`. */
  tenant: string;
  description: string;
  /** Default `http`. */
  transport: EndpointTransport;
  /** A URL (http), a subject (nats) or a registered function name (function). */
  target: string;
  /** Event-type patterns (src/core/typePattern.ts) this endpoint receives. */
  eventTypes: string[];
  /**
   * A condition on the payload and headers (docs/filters.md): a message whose type matches but
   * which the filter refuses gets no delivery, and is recorded as filtered. Null = every message.
   */
  filter: EndpointFilter | null;
  /** Signing scheme name (registry), default `standard`. */
  scheme: string;
  /** Options of a configurable scheme (`hmac`: header names, algorithm…); null otherwise. */
  schemeOptions: JsonObject | null;
  /** Current secret first; several while a rotation's old secret has not expired. */
  secrets: EndpointSecret[];
  /**
   * A named secret of the tenant (NamedSecretRecord) that signs instead of `secrets`, with its
   * scheme: resolved by the worker at every attempt, so a rotation applies to pending retries.
   */
  secretName: string | null;
  /**
   * An ad-hoc target of `dispatch({ url, secretName })`: never routed to by event type and left
   * out of `listEndpoints`; `getEndpoint` and the delivery operations see it like any other.
   */
  adhoc: boolean;
  /** Extra request headers. */
  headers: Record<string, string>;
  /** Default 15000. */
  timeoutMs: number;
  /** Normalised retry policy; null = the global default. */
  retry: RetryPolicy | null;
  rateLimitPerS: number | null;
  maxInFlight: number | null;
  /** Strict FIFO: a delivery is claimed only once every older one of the endpoint is final. */
  ordered: boolean;
  enabled: boolean;
  disabledReason: string | null;
  /** Failed attempts since the last successful one (auto-disable after N). */
  consecutiveFailures: number;
  /** Start of the current run of failed attempts; null after a success (auto-disable span). */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointInput {
  /** Default `ep_<ULID>`; 1–64 characters of `A–Z a–z 0–9 _ - .`. */
  id?: string;
  tenant?: string;
  description?: string;
  transport?: EndpointTransport;
  target: string;
  eventTypes: readonly string[];
  /** The filter as JSON, validated with parseEndpointFilter (`filter.invalid`); default null. */
  filter?: FilterJson | null;
  scheme?: string;
  schemeOptions?: JsonObject | null;
  secrets?: readonly EndpointSecretInput[];
  /** Default null. */
  secretName?: string | null;
  /** Default false; fixed at creation. */
  adhoc?: boolean;
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
  /** Validated with normalizeRetryPolicy; stored normalised. */
  retry?: RetryPolicy | null;
  rateLimitPerS?: number | null;
  maxInFlight?: number | null;
  ordered?: boolean;
  enabled?: boolean;
}

/** Fields an update may change; `enabled` goes through `setEndpointEnabled`. */
export type EndpointPatch = Partial<Omit<EndpointInput, "id" | "enabled" | "adhoc">>;

/**
 * A signing secret kept by name for a tenant (`/v1/secrets`), with the scheme it signs with.
 * Ad-hoc deliveries (`dispatch({ url, secretName })`) are signed with it; rotation keeps the
 * previous values signing until their expiry, exactly like an endpoint's secrets.
 */
export interface NamedSecretRecord {
  /** Default `default`. */
  tenant: string;
  /** Unique per tenant; 1–64 characters of `A–Z a–z 0–9 _ - .`. */
  name: string;
  /** Signing scheme name (registry), default `standard`. */
  scheme: string;
  /** Options of the `hmac` scheme (header names, delivery-id header…); null otherwise. */
  schemeOptions: JsonObject | null;
  /** Current value first; several while a rotation's old value has not expired. */
  secrets: EndpointSecret[];
  createdAt: string;
  updatedAt: string;
}

export interface NamedSecretInput {
  tenant?: string;
  name: string;
  scheme?: string;
  schemeOptions?: JsonObject | null;
  /** At least one. */
  secrets: readonly EndpointSecretInput[];
}

export type SourceTypeFrom = { body: string } | { header: string } | { fixed: string };

export interface SourceRecord {
  /** Primary key; the `:source` of `POST /webhooks/:source`. */
  name: string;
  /** A signing scheme, or a credential verifier: `token`, `basic` or `none` (unsigned). */
  scheme: string;
  /** hmac: its options; token: `{ header }` when the token is not in `Authorization: Bearer`. */
  schemeOptions: JsonObject | null;
  /** Every secret accepted while verifying (rotation on the provider's side); none: empty. */
  secrets: string[];
  /** Default 300. */
  toleranceS: number;
  /** Header carrying the dedupe key when the scheme has no id of its own (else a body hash). */
  idempotencyHeader: string | null;
  idempotencyRequired: boolean;
  /** Default 259200 (3 days). */
  dedupeTtlS: number;
  /** Where the message type comes from (`<source>.<type>`). */
  typeFrom: SourceTypeFrom;
  /** Sender addresses accepted (CIDRs or addresses, as written); empty = any address. */
  allowFrom: string[];
  createdAt: string;
  updatedAt: string;
}

export interface SourceInput {
  name: string;
  scheme: string;
  schemeOptions?: JsonObject | null;
  secrets?: readonly string[];
  toleranceS?: number;
  idempotencyHeader?: string | null;
  idempotencyRequired?: boolean;
  dedupeTtlS?: number;
  /** Default `{ fixed: "received" }`. */
  typeFrom?: SourceTypeFrom;
  /** Default `[]`: any sender address. */
  allowFrom?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Messages, deliveries, attempts
// ---------------------------------------------------------------------------------------------

export interface MessageRecord {
  /** `msg_<ULID>`; also the `webhook-id` every attempt of every delivery sends. */
  id: string;
  tenant: string;
  type: string;
  /** The inbound source it came from; null for API, library and event-store messages. */
  source: string | null;
  payload: JsonValue;
  /** Unique per tenant when set: a repeated key returns the first message. */
  idempotencyKey: string | null;
  /**
   * An inbound webhook's idempotency key as received: the id its source deduplicated it by (the
   * scheme's own webhook id, else the source's idempotency header); null when none was sent (the
   * body's hash deduplicated it) and for messages that did not come from a source. Not unique:
   * two sources may send the same key.
   */
  inboundIdempotencyKey: string | null;
  createdAt: string;
}

export interface MessageInput {
  tenant?: string;
  type: string;
  source?: string | null;
  payload: JsonValue;
  /**
   * The JSON text `payload` was parsed from (an ingested webhook's body), stored as is instead
   * of serialising `payload` again (numbers keep their digits). When given, it is the payload:
   * it is checked like any payload text (nesting depth, no U+0000 or unpaired surrogate, JSON),
   * and what it parses to is what every backend stores and answers.
   */
  payloadText?: string;
  idempotencyKey?: string | null;
  /** See MessageRecord.inboundIdempotencyKey; at most MAX_TEXT_LENGTH characters. */
  inboundIdempotencyKey?: string | null;
}

/**
 * `pending → delivering → delivered`; on failure `→ retrying → delivering …`; after the last
 * attempt `→ dead_lettered`; replay → `pending`. `cancelled` is reserved for deliveries that
 * will never be attempted (e.g. an endpoint removed with its queue dropped).
 */
export type DeliveryStatus =
  | "pending"
  | "delivering"
  | "delivered"
  | "retrying"
  | "dead_lettered"
  | "cancelled";

export interface DeliveryRecord {
  /** `dlv_<ULID>`. */
  id: string;
  messageId: string;
  endpointId: string;
  status: DeliveryStatus;
  /** Attempts made since creation or the last replay. */
  attempts: number;
  maxAttempts: number;
  /**
   * When the delivery is due: pending and retrying ones at their (next) attempt, delivering
   * ones at their lease end (due again if the worker never finishes); null once final.
   */
  nextAttemptAt: string | null;
  /** The worker holding the delivery while `delivering`. */
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * An endpoint whose event types matched a message but whose filter refused it: the message got
 * no delivery for it. Stored with the message, in the same transaction.
 */
export interface FilteredRecord {
  messageId: string;
  endpointId: string;
  /** The message's creation time (when routing decided). */
  filteredAt: string;
}

export interface DeliveryInput {
  endpointId: string;
  /** From the endpoint's (or the global) retry policy: `maxAttempts(policy)`. */
  maxAttempts: number;
  /** Default: the message's creation time (due at once). */
  nextAttemptAt?: TimeInput;
}

export interface AttemptRecord {
  /** `att_<ULID>`. */
  id: string;
  deliveryId: string;
  /** 1, 2, … per delivery, counting on across replays (unlike `DeliveryRecord.attempts`). */
  number: number;
  startedAt: string;
  durationMs: number;
  succeeded: boolean;
  statusCode: number | null;
  /** Lowercase names. */
  responseHeaders: Record<string, string> | null;
  /** At most MAX_RESPONSE_BODY_BYTES (20 KB) of UTF-8, cut at a character boundary. */
  responseBody: string | null;
  error: string | null;
}

export interface AttemptInput {
  startedAt: TimeInput;
  durationMs: number;
  /** The worker's verdict (2xx, JetStream ack, function returned); drives endpoint health. */
  succeeded: boolean;
  statusCode?: number | null;
  responseHeaders?: Readonly<Record<string, string>> | null;
  responseBody?: string | null;
  error?: string | null;
}
