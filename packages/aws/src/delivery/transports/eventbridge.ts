// EventBridge transport: an attempt puts one event on the endpoint's bus with PutEvents and
// succeeds when EventBridge accepts the entry (an EventId). The event's detail carries the
// message id, type, time and payload, and the signed headers, so a consumer can dedupe by the
// id with an inbox (EventBridge has no server-side dedupe) and check the signature.
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { RetryReason } from "@heraldjs/core/internal/delivery/responseRules.js";
import {
  type AttemptTimer,
  answeredAttempt,
  failedAttempt,
  parseAttemptTarget,
  succeededAttempt,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import { createDrainingTransport } from "@heraldjs/core/internal/delivery/transports/drainingTransport.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { eventBridgeEntrySize, MAX_PUT_EVENTS_BYTES } from "../../core/eventBridgeLimits.js";
import { callBeforeDeadline, regionalClients } from "./awsCall.js";
import { describeAwsError } from "./awsSendErrors.js";
import { type AwsTransportOptions, resolveAwsTransportOptions } from "./awsTransportOptions.js";
import { parseEventBridgeTarget } from "./eventbridgeTarget.js";

const REJECTED = { outcome: "reject", reason: "rejected" } as const;
/** EventBridge's longest DetailType. */
const MAX_DETAIL_TYPE = 128;

/** The entry's Detail: what a rule matches on and a consumer reads at `detail`. */
export interface HeraldEventDetail {
  /** The message id: the same on every attempt and replay, so consumers dedupe by it. */
  id: string;
  /** The event type (also the entry's DetailType). */
  type: string;
  /** When the message was created, ISO 8601 (also the entry's Time). */
  timestamp: string;
  /** The payload: its JSON is the body the signature covers. */
  data: unknown;
  /** The signed headers (webhook-id, webhook-timestamp, webhook-signature, x-herald-*, extras). */
  webhook: Record<string, string>;
}

function failedEntryReason(
  code: string,
): Extract<RetryReason, "rate_limited" | "unavailable" | "http_error"> {
  if (/throttl/i.test(code)) return "rate_limited";
  return code === "InternalFailure" || code === "InternalException" ? "unavailable" : "http_error";
}

/**
 * The EventBridge delivery transport. Target: `eventbridge://<bus>?source=&region=`
 * (parseEventBridgeTarget). One EventBridgeClient per region, created on first use, reaching
 * the regional endpoint or `options.aws.endpoint`; the target names a bus, never a host.
 *
 * The entry: EventBusName, Source (default "herald"), DetailType = the event type, Time = the
 * message's creation, Detail = `{ id, type, timestamp, data, webhook }` (HeraldEventDetail). A
 * consumer verifies with verifyWebhook({ headers: detail.webhook, body: JSON.stringify(detail.data) }),
 * which holds as long as the bus delivers the payload's JSON unchanged (numbers and key order).
 *
 * Outcomes: an EventId is a success (recorded in the attempt's response body). Rejected at once
 * (dead-lettered, never sent): an entry over 256 KB (eventBridgeEntrySize) or an event type over
 * EventBridge's 128-character DetailType. Everything else is retried: a failed entry
 * (`eventbridge: <ErrorCode>: <ErrorMessage>`), ResourceNotFoundException (the bus may be
 * created), AccessDenied, throttling, 5xx and network failures.
 */
export function createEventBridgeTransport(options: AwsTransportOptions = {}): Transport {
  const { config, clock, deadlineMs } = resolveAwsTransportOptions(options);
  const clients = regionalClients(
    (region) => new EventBridgeClient({ ...config, ...(region === undefined ? {} : { region }) }),
  );

  async function putAttempt(
    input: TransportSendInput,
    timer: AttemptTimer,
  ): Promise<TransportResult> {
    const { message, endpoint } = input;
    const timeoutMs = deadlineMs(endpoint.timeoutMs);
    const parsed = parseAttemptTarget(timer, endpoint.target, parseEventBridgeTarget);
    if (!parsed.ok) return parsed.result;
    const { target } = parsed;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    if (message.type.length > MAX_DETAIL_TYPE) {
      const error = `eventbridge: the event type is ${message.type.length} characters; EventBridge's DetailType takes at most ${MAX_DETAIL_TYPE}`;
      return answeredAttempt(timer, { error, classification: REJECTED });
    }
    const detail: HeraldEventDetail = {
      id: message.id,
      type: message.type,
      timestamp: message.createdAt,
      data: message.payload ?? null,
      webhook: { ...prepared.message.headers },
    };
    const createdMs = Date.parse(message.createdAt);
    const entry = {
      EventBusName: target.eventBusName,
      Source: target.source,
      DetailType: message.type,
      Detail: JSON.stringify(detail),
      ...(Number.isFinite(createdMs) ? { Time: new Date(createdMs) } : {}),
    };
    const size = eventBridgeEntrySize(entry);
    if (size > MAX_PUT_EVENTS_BYTES) {
      const error = `eventbridge: entry too large: ${size} bytes; EventBridge takes at most ${MAX_PUT_EVENTS_BYTES}`;
      return answeredAttempt(timer, { error, classification: REJECTED });
    }
    const command = new PutEventsCommand({ Entries: [entry] });
    const put = await callBeforeDeadline(
      (signal) => clients.get(target.region).send(command, { abortSignal: signal }),
      timeoutMs,
    );
    if (put.kind === "timeout") {
      return failedAttempt(
        timer,
        `timeout: no answer from EventBridge within ${timeoutMs} ms`,
        "timeout",
      );
    }
    if (put.kind === "error") {
      const failure = describeAwsError("eventbridge", put.error, timeoutMs);
      return answeredAttempt(timer, {
        error: failure.error,
        classification: { outcome: "retry", reason: failure.reason },
      });
    }
    const [result] = put.output.Entries ?? [];
    if (result?.ErrorCode !== undefined || (put.output.FailedEntryCount ?? 0) > 0) {
      const code = result?.ErrorCode ?? "FailedEntry";
      const text = result?.ErrorMessage ? `: ${result.ErrorMessage}` : "";
      return answeredAttempt(timer, {
        error: `eventbridge: ${code}${text}`,
        classification: { outcome: "retry", reason: failedEntryReason(code) },
      });
    }
    if (result?.EventId === undefined || result.EventId === "") {
      return failedAttempt(
        timer,
        "eventbridge: PutEvents answered without an EventId",
        "network_error",
      );
    }
    return succeededAttempt(
      timer,
      JSON.stringify({ event_bus: target.eventBusName, event_id: result.EventId }),
    );
  }

  return createDrainingTransport({
    name: "eventbridge",
    clock,
    attempt: putAttempt,
    thrownFallback: "PutEvents failed",
    // Sends in flight end first (each within its deadline), so no answer is lost.
    release: async () => clients.destroyAll(),
  });
}
