// Defaults and enumerations of the delivery store, shared by every adapter so they agree, and by
// the wire schemas, herald.yaml and the CLI, which state the same defaults.
import { DEFAULT_TOLERANCE_SECONDS } from "@heraldjs/webhooks/internal/core/signatureTolerance.js";

export {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_MAX_BODY_BYTES,
} from "@heraldjs/webhooks/internal/model/receiveDefaults.js";

import type { QueuedDeliveryStatus } from "./deliveryOperations.js";
import type { DeliveryStatus, EndpointTransport } from "./deliveryRecords.js";

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.freeze([
  "pending",
  "delivering",
  "delivered",
  "retrying",
  "dead_lettered",
  "cancelled",
]);

/** Counted by deliveryStats; `delivered` grows without bound and is a counter's job. */
export const QUEUED_DELIVERY_STATUSES: readonly QueuedDeliveryStatus[] = Object.freeze([
  "pending",
  "delivering",
  "retrying",
  "dead_lettered",
  "cancelled",
]);

/** Not final: an ordered endpoint's next delivery waits while an older one is in one of these. */
export const OPEN_DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.freeze([
  "pending",
  "delivering",
  "retrying",
]);

/** What `recoverEndpoint` replays: deliveries whose last attempt failed. */
export const RECOVERABLE_DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.freeze([
  "retrying",
  "dead_lettered",
]);

export const ENDPOINT_TRANSPORTS: readonly EndpointTransport[] = Object.freeze([
  "http",
  "nats",
  "function",
  "websocket",
  "grpc",
  "rabbitmq",
  "redis-streams",
  "nats-core",
  "sqs",
  "eventbridge",
]);

export const DEFAULT_TENANT = "default";
export const DEFAULT_ENDPOINT_TRANSPORT: EndpointTransport = "http";
export const DEFAULT_ENDPOINT_SCHEME = "standard";
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 15_000;
export const DEFAULT_SOURCE_TOLERANCE_S = DEFAULT_TOLERANCE_SECONDS;
export const DEFAULT_SOURCE_TYPE_FROM = Object.freeze({ fixed: "received" });

/** Most webhooks ingestion writes in one transaction (`ingest.max_batch`). */
export const DEFAULT_INGEST_MAX_BATCH = 256;

/** The attempt log keeps at most this many bytes (UTF-8) of a response body. */
export const MAX_RESPONSE_BODY_BYTES = 20_480;

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1_000;
export const DEFAULT_PREFIX_MATCHES = 10;

/** Longest name, tenant, key or reason the store accepts (indexes stay small). */
export const MAX_NAME_LENGTH = 255;
/** Longest free text (description, header value, attempt error, dead-letter reason). */
export const MAX_TEXT_LENGTH = 4096;
