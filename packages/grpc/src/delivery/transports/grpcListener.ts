// The listener side in Node: a herald.v1.Listener implementation for a grpc-js Server that
// verifies each delivery like a webhook (verifyWebhook on the body bytes with the signed
// headers, from the message or the call metadata) before handing it to the application.
import {
  status as GrpcStatus,
  type handleUnaryCall,
  Metadata,
  type Server,
  type ServerErrorResponse,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { verifyWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { VerifyErrorCode } from "@heraldjs/webhooks/internal/signing/types.js";
import { metadataHeaders } from "./grpcMetadata.js";
import { type AckMessage, type DeliveryMessage, listenerService } from "./listenerProto.js";

/** One verified delivery, as the application's handler gets it. */
export interface GrpcListenerDelivery {
  /** The delivery id (`dlv_…`), the same on every retry. */
  id: string;
  /** The message id (`msg_…`): the signed `webhook-id`, the key to deduplicate on. */
  messageId: string;
  eventType: string;
  tenant: string;
  /** 1, 2, … since the delivery was created or last replayed. */
  attempt: number;
  /** The parsed JSON payload. */
  payload: unknown;
  /** The exact bytes the signature covers. */
  body: Buffer;
  /** The signed headers (lowercase names): the message's, with the metadata's where it has none. */
  headers: Record<string, string>;
}

/** What a handler may return: nothing, or a note Herald keeps in the attempt log. */
export type GrpcListenerResult = undefined | string | { note?: string };

export interface GrpcListenerOptions {
  /** The endpoint's signing secret; several while a secret is being rotated. */
  secret: string | readonly string[];
  /**
   * Handles one verified delivery. Returning (or resolving) acknowledges it with OK. Throwing
   * answers UNAVAILABLE, so Herald retries later; an error with a numeric gRPC `code` (e.g.
   * `status.FAILED_PRECONDITION`) answers that status instead, and any status other than
   * UNAVAILABLE, RESOURCE_EXHAUSTED and DEADLINE_EXCEEDED makes Herald dead-letter the delivery.
   */
  onDelivery(delivery: GrpcListenerDelivery): GrpcListenerResult | Promise<GrpcListenerResult>;
  /** Accepted clock difference of `webhook-timestamp`, seconds; default 300. */
  toleranceSeconds?: number;
  /** The time signatures are checked against; default the system clock. */
  clock?: Clock;
}

/** Verification failures that mean "not signed by whoever holds the secret". */
const UNAUTHENTICATED_CODES: ReadonlySet<VerifyErrorCode> = new Set([
  "signature.missing",
  "signature.invalid",
  "signature.unsupported",
]);

function failure(code: GrpcStatus, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function grpcCodeOf(error: unknown): GrpcStatus | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && Number.isInteger(code) && code > 0 && code <= 16
    ? (code as GrpcStatus)
    : undefined;
}

function noteOf(result: GrpcListenerResult): AckMessage {
  if (typeof result === "string") return { note: result };
  if (result !== undefined && typeof result.note === "string") return { note: result.note };
  return {};
}

/**
 * The `herald.v1.Listener` implementation: `server.addService(listenerService(), createGrpcListener(…))`.
 * Answers OK after the handler, UNAUTHENTICATED for a missing or wrong signature,
 * INVALID_ARGUMENT for a malformed or stale one (or a body that is not JSON), UNAVAILABLE when
 * the handler throws.
 */
export function createGrpcListener(options: GrpcListenerOptions): UntypedServiceImplementation {
  const deliver: handleUnaryCall<DeliveryMessage, AckMessage> = (call, callback) => {
    const request = call.request;
    // The message's headers win; metadata fills in what it lacks.
    const headers: Record<string, string> = Object.assign(
      Object.create(null),
      metadataHeaders(call.metadata),
      request.headers,
    );
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: options.secret,
      headers,
      body: request.body,
      ...(options.toleranceSeconds === undefined
        ? {}
        : { toleranceSeconds: options.toleranceSeconds }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    if (!verdict.ok) {
      const code = UNAUTHENTICATED_CODES.has(verdict.code)
        ? GrpcStatus.UNAUTHENTICATED
        : GrpcStatus.INVALID_ARGUMENT;
      callback(failure(code, `${verdict.code}: ${verdict.message}`));
      return;
    }
    // webhook-id is signed; the message's own id field is not, so they must agree.
    if (verdict.id !== request.messageId) {
      callback(
        failure(GrpcStatus.INVALID_ARGUMENT, "message_id differs from the signed webhook-id"),
      );
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(request.body.toString("utf8"));
    } catch {
      callback(failure(GrpcStatus.INVALID_ARGUMENT, "body is not JSON"));
      return;
    }
    const delivery: GrpcListenerDelivery = {
      id: request.id,
      messageId: request.messageId,
      eventType: request.eventType,
      tenant: request.tenant,
      attempt: request.attempt,
      payload,
      body: request.body,
      headers: { ...headers },
    };
    Promise.resolve()
      .then(() => options.onDelivery(delivery))
      .then(
        (result) => callback(null, noteOf(result)),
        (error: unknown) => {
          const code = grpcCodeOf(error);
          if (code === undefined) callback(failure(GrpcStatus.UNAVAILABLE, "the handler failed"));
          else callback(failure(code, error instanceof Error ? error.message : ""));
        },
      );
  };
  return { Deliver: deliver as handleUnaryCall<unknown, unknown> };
}

/** Adds the verifying `herald.v1.Listener` service to `server` (see createGrpcListener). */
export function addHeraldListener(server: Server, options: GrpcListenerOptions): void {
  server.addService(listenerService(), createGrpcListener(options));
}
