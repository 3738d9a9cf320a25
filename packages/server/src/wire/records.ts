// The snake_case wire shapes of the delivery store's records, in ONE place: the HTTP API and the
// CLI's --json output both map records through these functions, so they never drift apart.
// Fields follow DESIGN.md's "Minimal JSON shapes" where it names them; fields may be added here,
// never renamed. Times are the records' ISO 8601 strings (UTC, milliseconds). Signing secrets
// never appear: endpoints and sources show `secret_count` only.

import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStatus,
  EndpointRecord,
  EndpointTransport,
  EventTypeRecord,
  FilteredRecord,
  MessageRecord,
  SourceRecord,
  SourceTypeFrom,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { FilterJson } from "@heraldjs/core/internal/model/endpointFilter.js";
import {
  type MessageStatus,
  messageProgress,
} from "@heraldjs/core/internal/model/messageStatus.js";
import { schemeOptionsToWire } from "@heraldjs/spec/internal/wire/schemeOptions.js";
import type { JsonObject, JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { isCredentialScheme } from "@heraldjs/webhooks/internal/signing/credentials.js";

interface DeliveryWire {
  id: string;
  message_id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  /** Attempts since creation or the last replay. */
  attempts: number;
  max_attempts: number;
  /** When the next attempt is due: set only while `pending` or `retrying`, else null. */
  next_retry_at: string | null;
  last_error: string | null;
  last_status_code: number | null;
  created_at: string;
  updated_at: string;
}

interface AttemptWire {
  id: string;
  delivery_id: string;
  /** 1, 2, … per delivery, counting on across replays. */
  number: number;
  started_at: string;
  duration_ms: number;
  succeeded: boolean;
  status_code: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
}

interface MessageWire {
  id: string;
  type: string;
  /** The inbound source it came from; null for API, library and event-store messages. */
  source: string | null;
  /** From the deliveries by one rule (MESSAGE_STATUSES, model/messageStatus.ts). */
  status: MessageStatus;
  status_description: string;
  /** The most attempts any delivery made; `max_attempts` likewise. */
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  /** The earliest time a queued or retrying delivery is due. */
  next_retry_at: string | null;
  created_at: string;
  /** The latest change of the message or any of its deliveries. */
  updated_at: string;
  payload: JsonValue;
  tenant: string;
  /**
   * The key it was sent with: POST /v1/messages' Idempotency-Key, or for an inbound webhook the
   * id its source deduplicated it by (the scheme's webhook id, else its idempotency header).
   */
  idempotency_key: string | null;
  /** Oldest first. */
  deliveries: DeliveryWire[];
  /** Endpoints whose event types matched but whose filter refused the message, by endpoint id. */
  filtered: FilteredWire[];
}

/** An endpoint a message was filtered out of: no delivery was created for it. */
interface FilteredWire {
  endpoint_id: string;
  outcome: "filtered";
  /** When routing decided (the message's creation time). */
  at: string;
}

interface EndpointWire {
  id: string;
  tenant: string;
  description: string;
  transport: EndpointTransport;
  /** The target when the transport is `http` (the `url` of POST /v1/endpoints), else null. */
  url: string | null;
  /** A URL (http), a subject (nats) or a registered function name (function). */
  target: string;
  event_types: string[];
  /** docs/filters.md; null = every message of a matching type. */
  filter: FilterJson | null;
  scheme: string;
  scheme_options: JsonObject | null;
  /** How many secrets sign (several during a rotation); the secrets themselves never appear. */
  secret_count: number;
  /** The named secret (`/v1/secrets`) that signs instead, with its scheme; else null. */
  secret_name: string | null;
  /** The target of ad-hoc dispatches (`POST /v1/messages` with `url`): never listed or routed. */
  adhoc: boolean;
  headers: Record<string, string>;
  timeout_ms: number;
  /** Already snake_case (`{"schedule_s":[…]}` or `{"backoff",…}`); null = the global default. */
  retry: RetryPolicy | null;
  rate_limit_per_s: number | null;
  max_in_flight: number | null;
  ordered: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

interface SourceWire {
  name: string;
  scheme: string;
  /** hmac's options; null for every other scheme. */
  scheme_options: JsonObject | null;
  verification: "signature" | "token" | "basic" | "none";
  /** False for an unsigned source. */
  verified: boolean;
  token_header: string | null;
  allow_from: string[];
  /** How many secrets verify; the secrets themselves never appear. */
  secret_count: number;
  tolerance_s: number;
  idempotency_header: string | null;
  idempotency_required: boolean;
  dedupe_ttl_s: number;
  /** `{"body":"type"}`, `{"header":"X-GitHub-Event"}` or `{"fixed":"received"}`. */
  type_from: SourceTypeFrom;
  created_at: string;
  updated_at: string;
}

interface EventTypeWire {
  name: string;
  description: string;
  schema: JsonObject | null;
  deprecated: boolean;
  auto: boolean;
  first_seen_at: string | null;
  last_seen_at: string | null;
  count: number;
  created_at: string;
  updated_at: string;
}

/** Statuses whose `nextAttemptAt` is a time the delivery will be attempted. */
const WAITING: readonly DeliveryStatus[] = ["pending", "retrying"];

export function deliveryToWire(delivery: DeliveryRecord): DeliveryWire {
  return {
    id: delivery.id,
    message_id: delivery.messageId,
    endpoint_id: delivery.endpointId,
    status: delivery.status,
    attempts: delivery.attempts,
    max_attempts: delivery.maxAttempts,
    next_retry_at: WAITING.includes(delivery.status) ? delivery.nextAttemptAt : null,
    last_error: delivery.lastError,
    last_status_code: delivery.lastStatusCode,
    created_at: delivery.createdAt,
    updated_at: delivery.updatedAt,
  };
}

export function attemptToWire(attempt: AttemptRecord): AttemptWire {
  return {
    id: attempt.id,
    delivery_id: attempt.deliveryId,
    number: attempt.number,
    started_at: attempt.startedAt,
    duration_ms: attempt.durationMs,
    succeeded: attempt.succeeded,
    status_code: attempt.statusCode,
    response_headers: attempt.responseHeaders === null ? null : { ...attempt.responseHeaders },
    response_body: attempt.responseBody,
    error: attempt.error,
  };
}

/** GET /v1/messages/:id: the message with its deliveries (oldest first, as the store returns). */
export function filteredToWire(filtered: FilteredRecord): FilteredWire {
  return { endpoint_id: filtered.endpointId, outcome: "filtered", at: filtered.filteredAt };
}

export function messageToWire(
  message: MessageRecord,
  deliveries: readonly DeliveryRecord[],
  filtered: readonly FilteredRecord[] = [],
): MessageWire {
  const progress = messageProgress(message, deliveries);
  // No delivery because every matching endpoint's filter refused it: say so, the status stays.
  const description =
    deliveries.length === 0 && filtered.length > 0
      ? `No delivery: ${filtered.length === 1 ? "the endpoint whose event types match filtered it out" : `the ${filtered.length} endpoints whose event types match filtered it out`}.`
      : progress.description;
  return {
    id: message.id,
    type: message.type,
    source: message.source,
    status: progress.status,
    status_description: description,
    attempts: progress.attempts,
    max_attempts: progress.maxAttempts,
    last_error: progress.lastError,
    next_retry_at: progress.nextRetryAt,
    created_at: message.createdAt,
    updated_at: progress.updatedAt,
    payload: message.payload,
    tenant: message.tenant,
    idempotency_key: message.idempotencyKey ?? message.inboundIdempotencyKey,
    deliveries: deliveries.map(deliveryToWire),
    filtered: filtered.map(filteredToWire),
  };
}

/** Transports whose target URL may hold a broker's or listener's password. */
const CREDENTIAL_TARGETS: ReadonlySet<string> = new Set([
  "websocket",
  "grpc",
  "rabbitmq",
  "redis-streams",
]);

/**
 * The target as the API and the CLI show it: a password in a websocket, grpc, rabbitmq or
 * redis-streams URL is replaced by `***` (the stored target keeps it; a PATCH without `url`
 * leaves it as it is).
 */
export function displayedTarget(endpoint: Pick<EndpointRecord, "transport" | "target">): string {
  if (!CREDENTIAL_TARGETS.has(endpoint.transport)) return endpoint.target;
  try {
    const url = new URL(endpoint.target);
    if (url.password === "") return endpoint.target;
    url.password = "***";
    return url.toString();
  } catch {
    return endpoint.target.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}

export function endpointToWire(endpoint: EndpointRecord): EndpointWire {
  return {
    id: endpoint.id,
    tenant: endpoint.tenant,
    description: endpoint.description,
    transport: endpoint.transport,
    url: endpoint.transport === "http" ? endpoint.target : null,
    target: displayedTarget(endpoint),
    event_types: [...endpoint.eventTypes],
    filter: endpoint.filter === null ? null : endpoint.filter.json,
    scheme: endpoint.scheme,
    scheme_options: schemeOptionsToWire(endpoint.schemeOptions),
    secret_count: endpoint.secrets.length,
    secret_name: endpoint.secretName,
    adhoc: endpoint.adhoc,
    headers: { ...endpoint.headers },
    timeout_ms: endpoint.timeoutMs,
    retry: endpoint.retry,
    rate_limit_per_s: endpoint.rateLimitPerS,
    max_in_flight: endpoint.maxInFlight,
    ordered: endpoint.ordered,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    consecutive_failures: endpoint.consecutiveFailures,
    failing_since: endpoint.failingSince,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

/** How a source verifies, as the API shows it (`scheme_options` is hmac's only). */
function verification(
  source: SourceRecord,
): Pick<SourceWire, "scheme_options" | "verification" | "verified" | "token_header"> {
  const kind = isCredentialScheme(source.scheme) ? source.scheme : "signature";
  const header = source.schemeOptions?.header;
  return {
    scheme_options: kind === "signature" ? schemeOptionsToWire(source.schemeOptions) : null,
    verification: kind,
    verified: kind !== "none",
    token_header: kind === "token" && typeof header === "string" ? header : null,
  };
}

export function sourceToWire(source: SourceRecord): SourceWire {
  return {
    name: source.name,
    scheme: source.scheme,
    ...verification(source),
    allow_from: [...source.allowFrom],
    secret_count: source.secrets.length,
    tolerance_s: source.toleranceS,
    idempotency_header: source.idempotencyHeader,
    idempotency_required: source.idempotencyRequired,
    dedupe_ttl_s: source.dedupeTtlS,
    type_from: { ...source.typeFrom },
    created_at: source.createdAt,
    updated_at: source.updatedAt,
  };
}

export function eventTypeToWire(eventType: EventTypeRecord): EventTypeWire {
  return {
    name: eventType.name,
    description: eventType.description,
    schema: eventType.schema,
    deprecated: eventType.deprecated,
    auto: eventType.auto,
    first_seen_at: eventType.firstSeenAt,
    last_seen_at: eventType.lastSeenAt,
    count: eventType.count,
    created_at: eventType.createdAt,
    updated_at: eventType.updatedAt,
  };
}
