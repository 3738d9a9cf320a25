// The JSON shapes of records as the HTTP API answers them (records.ts makes them), in zod: the
// routes' OpenAPI descriptions are made from these.

import {
  DEFAULT_PAGE_LIMIT,
  DELIVERY_STATUSES,
  ENDPOINT_TRANSPORTS,
  MAX_PAGE_LIMIT,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  DeliveryStatus,
  EndpointTransport,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import { MESSAGE_STATUSES } from "@heraldjs/core/internal/model/messageStatus.js";
import { z } from "zod";

export const errorShape = z
  .object({
    error: z.object({
      code: z.string().describe("Stable error code, e.g. signature.invalid"),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .describe("Error");

const time = z.string().describe("ISO 8601, UTC");
const deliveryStatus = z.enum(DELIVERY_STATUSES as [DeliveryStatus, ...DeliveryStatus[]]);

export const deliveryShape = z.object({
  id: z.string(),
  message_id: z.string(),
  endpoint_id: z.string(),
  status: deliveryStatus,
  attempts: z.int(),
  max_attempts: z.int(),
  next_retry_at: time.nullable(),
  last_error: z.string().nullable(),
  last_status_code: z.int().nullable(),
  created_at: time,
  updated_at: time,
});

export const attemptShape = z.object({
  id: z.string(),
  delivery_id: z.string(),
  number: z.int(),
  started_at: time,
  duration_ms: z.number(),
  succeeded: z.boolean(),
  status_code: z.int().nullable(),
  response_headers: z.record(z.string(), z.string()).nullable(),
  response_body: z.string().nullable(),
  error: z.string().nullable(),
});

export const filteredShape = z
  .object({
    endpoint_id: z.string(),
    outcome: z.literal("filtered"),
    at: time.describe("When routing decided (the message's creation time)"),
  })
  .describe("An endpoint whose event types matched but whose filter refused the message");

export const messageShape = z.object({
  id: z.string(),
  type: z.string(),
  source: z.string().nullable(),
  status: z
    .enum(MESSAGE_STATUSES)
    .describe(
      "From the deliveries, first rule that applies: no_endpoints (none), processing (one delivering), retrying (one retrying), queued (one pending), dead_lettered (one dead-lettered), delivered (one delivered), cancelled",
    ),
  status_description: z.string().describe("One sentence for people; status is the stable field"),
  attempts: z.int().describe("The most attempts any delivery made"),
  max_attempts: z.int().describe("The most attempts any delivery may make"),
  last_error: z
    .string()
    .nullable()
    .describe("The latest failed attempt that is still a delivery's last result"),
  next_retry_at: time.nullable().describe("The earliest time a queued or retrying delivery is due"),
  updated_at: time.describe("The latest change of the message or its deliveries"),
  tenant: z.string(),
  idempotency_key: z
    .string()
    .nullable()
    .describe(
      "The Idempotency-Key it was dispatched with, or the id an inbound webhook was deduplicated by",
    ),
  created_at: time,
  payload: z.unknown(),
  deliveries: z.array(deliveryShape),
  filtered: z
    .array(filteredShape)
    .describe(
      "The endpoints the message was filtered out of (no delivery for them), by endpoint id",
    ),
});

export const endpointShape = z.object({
  id: z.string(),
  tenant: z.string(),
  description: z.string(),
  transport: z.enum(ENDPOINT_TRANSPORTS as [EndpointTransport, ...EndpointTransport[]]),
  url: z.string().nullable(),
  target: z.string(),
  event_types: z.array(z.string()),
  filter: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("The filter on payload and headers (docs/filters.md); null = every message"),
  scheme: z.string(),
  scheme_options: z.record(z.string(), z.unknown()).nullable(),
  secret_count: z.int(),
  secret_name: z.string().nullable().describe("The named secret that signs instead (ad-hoc)"),
  adhoc: z.boolean().describe("The target of ad-hoc dispatches: never listed or routed"),
  headers: z.record(z.string(), z.string()),
  timeout_ms: z.int(),
  retry: z.record(z.string(), z.unknown()).nullable(),
  rate_limit_per_s: z.number().nullable(),
  max_in_flight: z.int().nullable(),
  ordered: z.boolean(),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  consecutive_failures: z.int(),
  failing_since: time.nullable(),
  created_at: time,
  updated_at: time,
});

export const sourceShape = z.object({
  name: z.string(),
  scheme: z.string(),
  scheme_options: z.record(z.string(), z.unknown()).nullable(),
  verification: z
    .enum(["signature", "token", "basic", "none"])
    .describe("How webhooks are verified: a signature, a shared token, HTTP Basic, or not at all"),
  verified: z.boolean().describe("False for an unsigned source (scheme none)"),
  token_header: z
    .string()
    .nullable()
    .describe("Scheme token: the header carrying the token; null = Authorization: Bearer"),
  allow_from: z.array(z.string()).describe("Sender addresses accepted; empty = any"),
  secret_count: z.int(),
  tolerance_s: z.number(),
  idempotency_header: z.string().nullable(),
  idempotency_required: z.boolean(),
  dedupe_ttl_s: z.number(),
  type_from: z.record(z.string(), z.string()),
  created_at: time,
  updated_at: time,
});

export const eventTypeShape = z.object({
  name: z.string(),
  description: z.string(),
  schema: z.record(z.string(), z.unknown()).nullable(),
  deprecated: z.boolean(),
  auto: z
    .boolean()
    .describe(
      "True while the type is known only from the messages that used it (recorded the first time one was stored); false once declared",
    ),
  first_seen_at: time
    .nullable()
    .describe("ISO 8601, UTC: when the first message of this type was stored; null: none yet"),
  last_seen_at: time
    .nullable()
    .describe("ISO 8601, UTC: when the latest message of this type was stored; null: none yet"),
  count: z
    .int()
    .min(0)
    .describe("Messages of this type stored (dispatched and received; duplicates not counted)"),
  created_at: time,
  updated_at: time.describe("ISO 8601, UTC; moved by declarations only, not by messages"),
});

/** `{data: [...], next_cursor}`. */
export function pageOf(item: z.ZodType) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}

/** `?limit&cursor` of every list. */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .describe(`Page size, 1–${MAX_PAGE_LIMIT}`),
  cursor: z.string().min(1).max(2048).optional().describe("next_cursor of the previous page"),
};
