// Bus message → PutEvents entry: the message data (the Herald JSON envelope) becomes the
// entry's Detail unchanged, so consumers find the event id at `detail.id` and dedupe on it with
// an inbox (EventBridge has no server-side dedupe). Everything is checked here, before any call.
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { BUS_HEADERS } from "@heraldjs/core/internal/bus/envelopeCodec.js";
import type { BusMessage } from "@heraldjs/core/internal/bus/port.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { eventBridgeEntrySize, MAX_PUT_EVENTS_BYTES } from "../../core/eventBridgeLimits.js";

export interface EntryOptions {
  eventBusName: string;
  source: string;
  detailType: (message: BusMessage) => string;
  clock: Clock;
}

/** The event type header: EventBridge's DetailType unless the caller chose another. */
export function defaultDetailType(message: BusMessage): string {
  const type = message.headers[BUS_HEADERS.eventType];
  if (type === undefined || type === "") {
    throw new HeraldError(
      "message.invalid",
      `Bus message ${message.id} has no ${BUS_HEADERS.eventType} header to use as the EventBridge detail type`,
      { details: { id: message.id } },
    );
  }
  return type;
}

function parseDetail(message: BusMessage): { text: string; value: Record<string, unknown> } {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(message.data);
    value = JSON.parse(text);
  } catch (error) {
    throw new HeraldError(
      "message.invalid",
      `Bus message ${message.id} is not JSON; EventBridge takes a JSON object as the event detail`,
      { cause: error, details: { id: message.id } },
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HeraldError(
      "message.invalid",
      `Bus message ${message.id} is not a JSON object; EventBridge takes a JSON object as the event detail`,
      { details: { id: message.id } },
    );
  }
  return { text, value: value as Record<string, unknown> };
}

/** The time the event happened: the envelope's occurredAt when it parses, else the clock's now. */
function eventTime(detail: Record<string, unknown>, clock: Clock): Date {
  const occurredAt = detail.occurredAt;
  if (typeof occurredAt === "string") {
    const ms = Date.parse(occurredAt);
    if (Number.isFinite(ms)) return new Date(ms);
  }
  return new Date(clock.now());
}

/**
 * The PutEvents entry for `message`. Throws HeraldError `message.invalid` for data that is not
 * a JSON object or a detail type that cannot be derived, and `bus.message_too_large` (details:
 * id, size, max) for an entry over EventBridge's 256 KB.
 */
export function toPutEventsEntry(
  message: BusMessage,
  options: EntryOptions,
): PutEventsRequestEntry {
  const detail = parseDetail(message);
  const detailType = options.detailType(message);
  if (typeof detailType !== "string" || detailType === "") {
    throw new HeraldError(
      "message.invalid",
      `The detail type chosen for bus message ${message.id} is empty`,
      { details: { id: message.id } },
    );
  }
  const entry: PutEventsRequestEntry = {
    EventBusName: options.eventBusName,
    Source: options.source,
    DetailType: detailType,
    Detail: detail.text,
    Time: eventTime(detail.value, options.clock),
  };
  const size = eventBridgeEntrySize(entry);
  if (size > MAX_PUT_EVENTS_BYTES) {
    throw new HeraldError(
      "bus.message_too_large",
      `Bus message ${message.id} makes an EventBridge entry of ${size} bytes; the limit is ${MAX_PUT_EVENTS_BYTES}`,
      { details: { id: message.id, size, max: MAX_PUT_EVENTS_BYTES } },
    );
  }
  return entry;
}
