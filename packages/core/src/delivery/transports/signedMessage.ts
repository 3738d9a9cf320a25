// What a message-shaped transport (NATS, WebSocket, gRPC, RabbitMQ, Redis Streams) sends: the
// payload's JSON bytes and the headers an HTTP delivery would carry — the endpoint's extras,
// Herald's x-herald-*, and the signing scheme's (webhook-id, webhook-timestamp,
// webhook-signature for `standard`) — so a consumer verifies it with verifyWebhook like a webhook.
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type AttemptTimer, failedAttempt } from "./attemptResult.js";
import { buildRequestHeaders } from "./requestHeaders.js";
import { signingHeaders } from "./signingHeaders.js";
import type { TransportResult, TransportSendInput } from "./types.js";

export interface SignedMessage {
  /** `JSON.stringify(message.payload)` as UTF-8: the bytes the signature covers. */
  body: Buffer;
  /** Lowercase names: extras < content-type and x-herald-* < the scheme's headers. */
  headers: Record<string, string>;
}

/** Herald's own headers on a message-shaped delivery. */
export function heraldMessageHeaders({
  delivery,
  message,
}: Pick<TransportSendInput, "delivery" | "message">): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-herald-message-id": message.id,
    "x-herald-delivery-id": delivery.id,
    "x-herald-event-type": message.type,
    "x-herald-tenant": message.tenant,
  };
}

/**
 * The signed message of one attempt, signed at `nowMs` (the attempt's start). Throws what
 * signing throws (`secret.missing` when no secret is active); `prepareSignedMessage` turns that
 * into the attempt's result.
 */
export function signedMessage(input: TransportSendInput, nowMs: number): SignedMessage {
  const { message, endpoint } = input;
  const body = Buffer.from(JSON.stringify(message.payload ?? null), "utf8");
  const headers = buildRequestHeaders({
    extra: endpoint.headers,
    herald: heraldMessageHeaders(input),
    signing: signingHeaders({ endpoint, messageId: message.id, body, nowMs }),
  });
  return { body, headers };
}

/**
 * `signedMessage`, or the failed attempt (`signing: <code> <message>`, retried like any failure,
 * never holding the secret) when it cannot be signed.
 */
export function prepareSignedMessage(
  input: TransportSendInput,
  timer: AttemptTimer,
): { ok: true; message: SignedMessage } | { ok: false; result: TransportResult } {
  try {
    return { ok: true, message: signedMessage(input, timer.startedMs) };
  } catch (error) {
    const code = isHeraldError(error) ? `${error.code} ` : "";
    const text = error instanceof Error ? error.message : "could not sign";
    return { ok: false, result: failedAttempt(timer, `signing: ${code}${text}`, "network_error") };
  }
}
