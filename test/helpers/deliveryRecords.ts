// Records the transport and worker tests send: an enabled HTTP endpoint with the standard
// scheme and one secret, and a small message; each test overrides what it is about.
import type {
  DeliveryRecord,
  EndpointRecord,
  EndpointSecret,
  MessageRecord,
} from "../../packages/core/src/store/deliveryPorts.js";

export const isoAt = (ms: number) => new Date(ms).toISOString();

export function testEndpoint(
  target: string,
  secrets: EndpointSecret[],
  overrides: Partial<EndpointRecord> = {},
): EndpointRecord {
  return {
    id: "ep_test",
    tenant: "default",
    description: "",
    transport: "http",
    target,
    eventTypes: ["*"],
    filter: null,
    scheme: "standard",
    schemeOptions: null,
    secrets,
    secretName: null,
    adhoc: false,
    headers: {},
    timeoutMs: 2000,
    retry: null,
    rateLimitPerS: null,
    maxInFlight: null,
    ordered: false,
    enabled: true,
    disabledReason: null,
    consecutiveFailures: 0,
    failingSince: null,
    createdAt: isoAt(Date.now()),
    updatedAt: isoAt(Date.now()),
    ...overrides,
  };
}

export function testMessage(payload: unknown): MessageRecord {
  return {
    id: "msg_01JTESTMESSAGE0000000000000",
    tenant: "default",
    type: "order.created.v1",
    source: null,
    payload,
    idempotencyKey: null,
    inboundIdempotencyKey: null,
    createdAt: isoAt(Date.now()),
  } as MessageRecord;
}

/** A delivery of `testMessage` being sent (what a transport is given), attempted `attempts` times. */
export function testDelivery(id: string, attempts = 0): DeliveryRecord {
  return {
    id,
    messageId: "msg_01JTESTMESSAGE0000000000000",
    endpointId: "ep_test",
    status: "delivering",
    attempts,
    maxAttempts: 5,
    nextAttemptAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastAttemptAt: null,
    lastError: null,
    lastStatusCode: null,
    createdAt: isoAt(Date.now()),
    updatedAt: isoAt(Date.now()),
  };
}

/** A successful attempt (200, empty body) started at `startedAt`, as a transport reports it. */
export const okAttempt = (startedAt: number) => ({
  startedAt,
  durationMs: 3,
  succeeded: true,
  statusCode: 200,
  responseHeaders: { "content-length": "0" },
  responseBody: "",
  error: null,
});
