// gRPC transport: an attempt calls herald.v1.Listener/Deliver on the endpoint's target with the
// signed body and headers in the message and the headers in the call metadata; the gRPC status
// decides the outcome (grpcStatus.ts), the endpoint's timeoutMs is the call's deadline.

import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { createSsrfGuard } from "@heraldjs/core/internal/delivery/ssrfGuard.js";
import {
  type AttemptTimer,
  answeredAttempt,
  failedAttempt,
  parseAttemptTarget,
  startAttempt,
  succeededAttempt,
  withDeadline,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import type { NetworkTransportOptions } from "@heraldjs/core/internal/delivery/transports/networkTransportOptions.js";
import { describeSendError } from "@heraldjs/core/internal/delivery/transports/sendErrors.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { createGrpcConnections } from "./grpcConnections.js";
import { callMetadata } from "./grpcMetadata.js";
import { classifyGrpcStatus } from "./grpcStatus.js";
import { type GrpcTarget, parseGrpcTarget } from "./grpcTarget.js";
import { type AckMessage, type DeliveryMessage, listenerService } from "./listenerProto.js";

export { checkGrpcTarget } from "./grpcTarget.js";

export interface GrpcTransportOptions extends NetworkTransportOptions {
  /**
   * PEM root certificates that `grpcs://` targets are checked against instead of the system's
   * (a private CA, a test's self-signed certificate).
   */
  tlsRootCerts?: Buffer;
}

/** How a call ended: its status, and the Ack when it is OK. */
interface CallEnd {
  code: number;
  details: string;
  ack: AckMessage | null;
}

/** The attempt of a call that ended with a status other than OK (or passed its deadline). */
function statusResult(
  timer: AttemptTimer,
  code: number,
  details: string,
  timeoutMs: number,
): TransportResult {
  const { error, classification } = classifyGrpcStatus(code, details, timeoutMs);
  return answeredAttempt(timer, { error: error ?? `grpc: status ${code}`, classification });
}

/**
 * The gRPC delivery transport. Targets are `grpc://host:port` (plaintext) and
 * `grpcs://host:port` (TLS); one client per target is reused across sends and closed by
 * `close()`.
 */
export function createGrpcTransport(options: GrpcTransportOptions = {}): Transport {
  const { clock = systemClock } = options;
  const connections = createGrpcConnections({
    guard: createSsrfGuard({ allow: options.ssrfAllow ?? [] }),
    ...(options.tlsRootCerts === undefined ? {} : { tlsRootCerts: options.tlsRootCerts }),
  });

  function call(
    target: string,
    parsed: GrpcTarget,
    request: DeliveryMessage,
    headers: Record<string, string>,
    timer: AttemptTimer,
    timeoutMs: number,
  ): (signal: AbortSignal) => Promise<CallEnd> {
    return async (signal) => {
      const client = await connections.client(target, parsed);
      const method = listenerService().Deliver;
      // The deadline counts from the attempt's start, name resolution included.
      const deadline = Date.now() + Math.max(1, timeoutMs - timer.elapsed());
      return new Promise<CallEnd>((resolve) => {
        const pending = client.makeUnaryRequest<DeliveryMessage, AckMessage>(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          request,
          callMetadata(headers),
          { deadline },
          (error: ServiceError | null, ack?: AckMessage) => {
            signal.removeEventListener("abort", cancel);
            if (error !== null) resolve({ code: error.code, details: error.details, ack: null });
            else resolve({ code: GrpcStatus.OK, details: "", ack: ack ?? {} });
          },
        );
        const cancel = () => pending.cancel();
        signal.addEventListener("abort", cancel, { once: true });
      });
    };
  }

  async function send(input: TransportSendInput): Promise<TransportResult> {
    const { endpoint, delivery, message, attemptNumber } = input;
    const timer = startAttempt(clock);
    const timeoutMs = endpoint.timeoutMs;
    const target = parseAttemptTarget(timer, endpoint.target, parseGrpcTarget);
    if (!target.ok) return target.result;
    const parsed = target.target;
    // The endpoint's extras, Herald's x-herald-* and the scheme's signature headers.
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const { body, headers } = prepared.message;
    const request: DeliveryMessage = {
      id: delivery.id,
      messageId: message.id,
      eventType: message.type,
      tenant: message.tenant,
      attempt: attemptNumber,
      body,
      headers,
    };
    try {
      const ended = await withDeadline(
        call(endpoint.target, parsed, request, headers, timer, timeoutMs),
        timeoutMs,
      );
      if (ended.timedOut) {
        return statusResult(timer, GrpcStatus.DEADLINE_EXCEEDED, "", timeoutMs);
      }
      const { code, details, ack } = ended.value;
      if (code === GrpcStatus.OK) return succeededAttempt(timer, ack?.note ?? null);
      return statusResult(timer, code, details, timeoutMs);
    } catch (error) {
      // No call was made: the target was refused (SSRF), did not resolve, or the transport is closed.
      return failedAttempt(timer, describeSendError(error, timeoutMs), "network_error");
    }
  }

  async function close(): Promise<void> {
    connections.close();
  }

  return { send, close };
}
