// Function transport: an attempt calls an in-process function registered by name (library mode).
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { MAX_RESPONSE_BODY_BYTES } from "../../model/constants.js";
import type { MessageRecord } from "../../model/deliveryRecords.js";
import {
  failedAttempt,
  startAttempt,
  succeededAttempt,
  thrownText,
  withDeadline,
} from "./attemptResult.js";
import { type SignedMessage, signedMessage } from "./signedMessage.js";
import type { Transport, TransportResult, TransportSendInput } from "./types.js";

function signedOrNull(input: TransportSendInput, nowMs: number): SignedMessage | null {
  try {
    return signedMessage(input, nowMs);
  } catch {
    return null; // no active secret: a function needs none
  }
}

/** What a delivery function learns about the attempt besides the message. */
export interface FunctionDeliveryContext {
  deliveryId: string;
  endpointId: string;
  /** The same number as `attempt` (the worker passes `DeliveryRecord.attempts` + 1); kept for compatibility. */
  attemptNumber: number;
  /**
   * 1, 2, … since the delivery was created or last replayed (`DeliveryRecord.attempts` + 1):
   * the count the retry policy's `maxAttempts` applies to.
   */
  attempt: number;
  /** The delivery's `maxAttempts`: the attempt that, failing, dead-letters it. */
  maxAttempts: number;
  /** The endpoint's extra headers, as metadata. */
  headers: Readonly<Record<string, string>>;
  /** Aborted when the endpoint's `timeoutMs` passes; the attempt has then already failed. */
  signal: AbortSignal;
  /**
   * The message as the other transports send it: the payload's JSON bytes and the signed
   * headers (webhook-id, webhook-timestamp, webhook-signature, x-herald-*), so a function can
   * hand it on, or check it with verifyWebhook, like a received webhook. Null when the endpoint
   * has no active secret (a function endpoint needs none).
   */
  signed: SignedMessage | null;
}

/**
 * Returning (or resolving) means delivered; throwing (or rejecting) means retry. A returned
 * value is kept, as JSON, as the attempt's `responseBody`.
 */
export type DeliveryFunction = (
  message: Readonly<MessageRecord>,
  context: FunctionDeliveryContext,
) => unknown;

export interface FunctionTransportOptions {
  /**
   * Functions by name (`EndpointRecord.target`). Looked up on every send, so entries added
   * after the transport was created are found.
   */
  functions: Record<string, DeliveryFunction> | ReadonlyMap<string, DeliveryFunction>;
  /** `startedAt` of each attempt. */
  clock?: Clock;
  /** Bytes of the returned value kept for the attempt log; default 20 KiB. */
  maxResponseBytes?: number;
}

function lookup(
  functions: FunctionTransportOptions["functions"],
  name: string,
): DeliveryFunction | undefined {
  if (functions instanceof Map) return functions.get(name);
  const record = functions as Record<string, DeliveryFunction>;
  // Own properties only: a target of `toString` must not call Object.prototype.toString.
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function describeReturn(value: unknown): string | null {
  if (value === undefined) return null;
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null; // a cycle or a BigInt: delivered all the same, just not logged
  }
}

export function createFunctionTransport(options: FunctionTransportOptions): Transport {
  const { functions, clock = systemClock, maxResponseBytes = MAX_RESPONSE_BODY_BYTES } = options;

  async function send(input: TransportSendInput): Promise<TransportResult> {
    const { delivery, message, endpoint, attemptNumber } = input;
    const timer = startAttempt(clock);
    const fn = lookup(functions, endpoint.target);
    if (fn === undefined) {
      // A retry, not a dead end: the application may register the function after start-up.
      return failedAttempt(
        timer,
        `function.unknown: no function registered as "${endpoint.target}"`,
        "network_error",
      );
    }
    const timeoutMs = endpoint.timeoutMs;
    try {
      const outcome = await withDeadline(
        async (signal) =>
          fn(message, {
            deliveryId: delivery.id,
            endpointId: endpoint.id,
            attemptNumber,
            attempt: delivery.attempts + 1,
            maxAttempts: delivery.maxAttempts,
            headers: endpoint.headers,
            signal,
            signed: signedOrNull(input, timer.startedMs),
          }),
        timeoutMs,
      );
      if (outcome.timedOut) {
        return failedAttempt(
          timer,
          `timeout: function did not settle within ${timeoutMs} ms`,
          "timeout",
        );
      }
      return succeededAttempt(timer, describeReturn(outcome.value), maxResponseBytes);
    } catch (error) {
      return failedAttempt(
        timer,
        `function: ${thrownText(error, "threw a non-Error value")}`,
        "network_error",
      );
    }
  }

  return { send, close: async () => {} };
}
