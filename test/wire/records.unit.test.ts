// The record → wire mappers shared by the HTTP API and the CLI: snake_case, DESIGN.md's field
// names, no secrets, and the message status derived from the deliveries.
import { describe, expect, it } from "vitest";
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStatus,
  EndpointRecord,
  EventTypeRecord,
  MessageRecord,
  SourceRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import {
  attemptToWire,
  deliveryToWire,
  endpointToWire,
  eventTypeToWire,
  messageToWire,
  sourceToWire,
} from "../../packages/server/src/wire/records.js";

const T0 = "2025-03-01T10:00:00.000Z";
const T1 = "2025-03-01T10:05:00.000Z";

function delivery(status: DeliveryStatus, extra: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: "dlv_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
    messageId: "msg_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
    endpointId: "ep_orders",
    status,
    attempts: 2,
    maxAttempts: 8,
    nextAttemptAt: T1,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastAttemptAt: T0,
    lastError: "HTTP 503",
    lastStatusCode: 503,
    createdAt: T0,
    updatedAt: T1,
    ...extra,
  };
}

const message: MessageRecord = {
  id: "msg_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
  tenant: "acme",
  type: "order.created.v1",
  source: null,
  payload: { id: "ord_1", total: 42 },
  idempotencyKey: "order-1",
  inboundIdempotencyKey: null,
  createdAt: T0,
};

describe("deliveryToWire", () => {
  it("maps every field to snake_case, in the documented order", () => {
    expect(deliveryToWire(delivery("retrying"))).toEqual({
      id: "dlv_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
      message_id: "msg_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
      endpoint_id: "ep_orders",
      status: "retrying",
      attempts: 2,
      max_attempts: 8,
      next_retry_at: T1,
      last_error: "HTTP 503",
      last_status_code: 503,
      created_at: T0,
      updated_at: T1,
    });
    expect(Object.keys(deliveryToWire(delivery("pending")))).toEqual([
      "id",
      "message_id",
      "endpoint_id",
      "status",
      "attempts",
      "max_attempts",
      "next_retry_at",
      "last_error",
      "last_status_code",
      "created_at",
      "updated_at",
    ]);
  });

  it.each([
    ["pending", T1],
    ["retrying", T1],
    ["delivering", null],
    ["delivered", null],
    ["dead_lettered", null],
    ["cancelled", null],
  ] as const)("next_retry_at is set only while waiting: %s", (status, expected) => {
    // A delivering delivery's nextAttemptAt is its lease end, not a retry time.
    expect(deliveryToWire(delivery(status)).next_retry_at).toBe(expected);
  });
});

describe("attemptToWire", () => {
  it("maps an attempt, copying its headers", () => {
    const attempt: AttemptRecord = {
      id: "att_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
      deliveryId: "dlv_01JNBZ8Q4W8M3X5B7N1C0D2E3F",
      number: 3,
      startedAt: T0,
      durationMs: 120,
      succeeded: false,
      statusCode: 503,
      responseHeaders: { "retry-after": "30" },
      responseBody: "busy",
      error: null,
    };
    const wire = attemptToWire(attempt);
    expect(wire).toEqual({
      id: attempt.id,
      delivery_id: attempt.deliveryId,
      number: 3,
      started_at: T0,
      duration_ms: 120,
      succeeded: false,
      status_code: 503,
      response_headers: { "retry-after": "30" },
      response_body: "busy",
      error: null,
    });
    expect(wire.response_headers).not.toBe(attempt.responseHeaders);
    expect(attemptToWire({ ...attempt, responseHeaders: null }).response_headers).toBeNull();
  });
});

describe("messageToWire", () => {
  it("shows an inbound message's idempotency key as its idempotency_key", () => {
    const inbound = {
      ...message,
      source: "shop",
      idempotencyKey: null,
      inboundIdempotencyKey: "evt_1",
    };
    expect(messageToWire(inbound, []).idempotency_key).toBe("evt_1");
    expect(
      messageToWire({ ...inbound, inboundIdempotencyKey: null }, []).idempotency_key,
    ).toBeNull();
    expect(messageToWire({ ...message, inboundIdempotencyKey: "evt_1" }, []).idempotency_key).toBe(
      "order-1",
    );
  });

  it("has DESIGN.md's GET /v1/messages/:id fields, deliveries included", () => {
    const wire = messageToWire(message, [delivery("delivered"), delivery("dead_lettered")]);
    expect(wire).toMatchObject({
      id: message.id,
      type: "order.created.v1",
      source: null,
      status: "dead_lettered",
      status_description: expect.stringMatching(
        /^Dead-lettered: .* Deliveries: 1 delivered, 1 dead_lettered\.$/,
      ),
      attempts: 2,
      max_attempts: 8,
      last_error: "HTTP 503",
      next_retry_at: null,
      created_at: T0,
      updated_at: T1,
      payload: { id: "ord_1", total: 42 },
      tenant: "acme",
      idempotency_key: "order-1",
    });
    for (const field of ["id", "type", "source", "status", "created_at", "payload", "deliveries"]) {
      expect(wire).toHaveProperty(field);
    }
    expect(wire.deliveries).toHaveLength(2);
    for (const field of [
      "id",
      "endpoint_id",
      "status",
      "attempts",
      "max_attempts",
      "last_error",
      "next_retry_at",
      "updated_at",
    ]) {
      expect(wire.deliveries[0]).toHaveProperty(field);
    }
  });
});

describe("catalogue records", () => {
  const endpoint: EndpointRecord = {
    id: "ep_orders",
    tenant: "acme",
    description: "orders",
    transport: "http",
    target: "https://acme.example/hooks",
    eventTypes: ["order.*"],
    filter: null,
    scheme: "standard",
    schemeOptions: null,
    secrets: [
      { secret: "whsec_new", expiresAt: null, createdAt: T1 },
      { secret: "whsec_old", expiresAt: T1, createdAt: T0 },
    ],
    secretName: null,
    adhoc: false,
    headers: { "x-team": "orders" },
    timeoutMs: 15_000,
    retry: { schedule_s: [5, 300] },
    rateLimitPerS: 10,
    maxInFlight: 4,
    ordered: false,
    enabled: false,
    disabledReason: "410 Gone",
    consecutiveFailures: 3,
    failingSince: T0,
    createdAt: T0,
    updatedAt: T1,
  };

  it("endpointToWire counts secrets and never includes them", () => {
    const wire = endpointToWire(endpoint);
    expect(wire).toEqual({
      id: "ep_orders",
      tenant: "acme",
      description: "orders",
      transport: "http",
      url: "https://acme.example/hooks",
      target: "https://acme.example/hooks",
      event_types: ["order.*"],
      filter: null,
      scheme: "standard",
      scheme_options: null,
      secret_count: 2,
      secret_name: null,
      adhoc: false,
      headers: { "x-team": "orders" },
      timeout_ms: 15_000,
      retry: { schedule_s: [5, 300] },
      rate_limit_per_s: 10,
      max_in_flight: 4,
      ordered: false,
      enabled: false,
      disabled_reason: "410 Gone",
      consecutive_failures: 3,
      failing_since: T0,
      created_at: T0,
      updated_at: T1,
    });
    expect(JSON.stringify(wire)).not.toContain("whsec_");
    expect(endpointToWire({ ...endpoint, transport: "nats", target: "orders.out" })).toMatchObject({
      url: null,
      target: "orders.out",
    });
  });

  it("sourceToWire counts secrets and never includes them", () => {
    const source: SourceRecord = {
      name: "github",
      scheme: "github",
      schemeOptions: null,
      secrets: ["gh-secret-1", "gh-secret-2"],
      toleranceS: 300,
      idempotencyHeader: "X-GitHub-Delivery",
      idempotencyRequired: true,
      dedupeTtlS: 259_200,
      typeFrom: { header: "X-GitHub-Event" },
      allowFrom: [],
      createdAt: T0,
      updatedAt: T1,
    };
    const wire = sourceToWire(source);
    expect(wire).toEqual({
      name: "github",
      scheme: "github",
      scheme_options: null,
      verification: "signature",
      verified: true,
      token_header: null,
      allow_from: [],
      secret_count: 2,
      tolerance_s: 300,
      idempotency_header: "X-GitHub-Delivery",
      idempotency_required: true,
      dedupe_ttl_s: 259_200,
      type_from: { header: "X-GitHub-Event" },
      created_at: T0,
      updated_at: T1,
    });
    expect(JSON.stringify(wire)).not.toContain("gh-secret");
  });

  it("eventTypeToWire", () => {
    const eventType: EventTypeRecord = {
      name: "order.created.v1",
      description: "An order was placed",
      schema: { type: "object" },
      deprecated: false,
      auto: true,
      firstSeenAt: T0,
      lastSeenAt: T1,
      count: 42,
      createdAt: T0,
      updatedAt: T1,
    };
    expect(eventTypeToWire(eventType)).toEqual({
      name: "order.created.v1",
      description: "An order was placed",
      schema: { type: "object" },
      deprecated: false,
      auto: true,
      first_seen_at: T0,
      last_seen_at: T1,
      count: 42,
      created_at: T0,
      updated_at: T1,
    });
  });
});
