// Builds validated message, delivery and attempt records; adapters store exactly these, so ids,
// defaults and the response-body cap are the same on every backend.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { isPlainObject, type JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { scanJsonText } from "@heraldjs/webhooks/internal/core/jsonText.js";
import { newId } from "../core/ids.js";
import {
  bool,
  invalid,
  json,
  key,
  nonNegativeNumber,
  positiveInteger,
  text,
  textOrNull,
  typeName,
} from "./check.js";
import { DEFAULT_TENANT, MAX_RESPONSE_BODY_BYTES, MAX_TEXT_LENGTH } from "./constants.js";
import type { CreateMessageInput } from "./deliveryOperations.js";
import type {
  AttemptInput,
  AttemptRecord,
  DeliveryRecord,
  FilteredRecord,
  MessageRecord,
} from "./deliveryRecords.js";
import { type InboundKey, inboundKey } from "./inboundKeys.js";
import { toIso } from "./time.js";

export interface NewMessage {
  message: MessageRecord;
  deliveries: DeliveryRecord[];
  /** The endpoints its filter refused (CreateMessageInput.filtered). */
  filtered: FilteredRecord[];
  /** The inbound dedupe key stored with the message, when the input has one. */
  inboundKey: InboundKey | null;
  /** The payload's JSON text when the input gave it (`MessageInput.payloadText`). */
  payloadText?: string;
}

// A number JSON.parse turns into ±Infinity (an exponent of 3 digits or 309 digits in a row):
// such a text takes the full check of its payload, which refuses it.
const MAY_OVERFLOW = /\d[eE]\+?\d{3}|\d{309}/;

/** The JSON text to store for a record's payload: the input's text, else the payload's. */
export function payloadJson(record: NewMessage): string {
  return record.payloadText ?? JSON.stringify(record.message.payload);
}

/**
 * The checked payload, and the JSON text to store for it when the input gave one. That text is
 * the payload: it is scanned (depth, text no store can hold) and parsed once, and what it parses
 * to is the record's payload, so every backend stores and answers the same value (the `payload`
 * given beside it, required all the same, is not consulted). Its numbers keep their digits in the stored text.
 */
function payloadOf(
  value: unknown,
  payloadText: unknown,
  code: "message.invalid",
): { value: JsonValue; text?: string } {
  if (payloadText === undefined || payloadText === null) {
    return { value: json(value, "payload", code) };
  }
  if (typeof payloadText !== "string") throw invalid(code, "payloadText", "must be a string");
  const problem = scanJsonText(payloadText);
  if (problem !== undefined) throw invalid(code, "payloadText", problem.reason);
  if (value === undefined) throw invalid(code, "payload", "is required");
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadText);
  } catch {
    throw invalid(code, "payloadText", "is not JSON");
  }
  // Infinity (from 1e999) is not JSON: the full check refuses it.
  if (MAY_OVERFLOW.test(payloadText))
    return { value: json(parsed, "payload", code), text: payloadText };
  return { value: parsed as JsonValue, text: payloadText };
}

/** The message, its deliveries and its dedupe key as they will be stored (ids from `clock`). */
export function newMessageRecords(
  input: CreateMessageInput,
  nowIso: string,
  clock: Clock,
): NewMessage {
  const code = "message.invalid";
  if (!isPlainObject(input) || !isPlainObject(input.message)) {
    throw invalid(code, "message", "must be an object");
  }
  if (!Array.isArray(input.deliveries)) throw invalid(code, "deliveries", "must be an array");
  const m = input.message;
  const id = newId("msg", { clock });
  const tenant = text(m.tenant ?? DEFAULT_TENANT, "tenant", code);
  const type = typeName(m.type, "type", code);
  const source = textOrNull(m.source, "source", code);
  const payload = payloadOf(m.payload, m.payloadText, code);
  const message: MessageRecord = {
    id,
    tenant,
    type,
    source,
    payload: payload.value,
    idempotencyKey: textOrNull(m.idempotencyKey, "idempotencyKey", code),
    inboundIdempotencyKey: textOrNull(
      m.inboundIdempotencyKey,
      "inboundIdempotencyKey",
      code,
      MAX_TEXT_LENGTH,
    ),
    createdAt: nowIso,
  };
  const deliveries = newDeliveryRecords(message.id, input.deliveries, nowIso, clock);
  const filtered = newFilteredRecords(message.id, input.filtered, deliveries, nowIso);
  const record: NewMessage = {
    message,
    deliveries,
    filtered,
    inboundKey: inboundKey(input.dedupe),
  };
  if (payload.text !== undefined) record.payloadText = payload.text;
  return record;
}

/** The pending deliveries of message `messageId` (ids from `clock`), checked. */
export function newDeliveryRecords(
  messageId: string,
  deliveries: readonly unknown[],
  nowIso: string,
  clock: Clock,
): DeliveryRecord[] {
  const code = "message.invalid";
  const seen = new Set<string>();
  return deliveries.map((d: unknown, i): DeliveryRecord => {
    const field = `deliveries[${i}]`;
    if (!isPlainObject(d)) throw invalid(code, field, "must be { endpointId, maxAttempts }");
    const endpointId = key(d.endpointId, `${field}.endpointId`, code);
    if (seen.has(endpointId)) throw invalid(code, `${field}.endpointId`, "is listed twice");
    seen.add(endpointId);
    return {
      id: newId("dlv", { clock }),
      messageId,
      endpointId,
      status: "pending",
      attempts: 0,
      maxAttempts: positiveInteger(d.maxAttempts, `${field}.maxAttempts`, code),
      nextAttemptAt:
        d.nextAttemptAt === undefined
          ? nowIso
          : toIso(d.nextAttemptAt, `${field}.nextAttemptAt`, code),
      leaseOwner: null,
      leaseExpiresAt: null,
      lastAttemptAt: null,
      lastError: null,
      lastStatusCode: null,
      createdAt: nowIso,
      updatedAt: nowIso,
    };
  });
}

/** The endpoints a filter refused (no delivery for them), checked: distinct, not delivered to. */
function newFilteredRecords(
  messageId: string,
  endpointIds: unknown,
  deliveries: readonly DeliveryRecord[],
  nowIso: string,
): FilteredRecord[] {
  const code = "message.invalid";
  if (endpointIds === undefined) return [];
  if (!Array.isArray(endpointIds)) throw invalid(code, "filtered", "must be an array");
  const seen = new Set(deliveries.map((d) => d.endpointId));
  return endpointIds.map((value: unknown, i): FilteredRecord => {
    const endpointId = key(value, `filtered[${i}]`, code);
    if (seen.has(endpointId)) {
      throw invalid(code, `filtered[${i}]`, "is listed twice or also has a delivery");
    }
    seen.add(endpointId);
    return { messageId, endpointId, filteredAt: nowIso };
  });
}

/** Cuts `value` to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(value: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short strings need no encoding at all.
  if (value.length * 3 <= maxBytes) return value;
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length <= maxBytes) return value;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // a continuation byte
  return bytes.subarray(0, end).toString("utf8");
}

// Text from the outside world (responses, error messages) is logged, never refused: NUL, which
// PostgreSQL text cannot hold, becomes U+FFFD on every backend.
function outsideText(value: string): string {
  return value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value;
}

function optionalOutsideText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw invalid("delivery.invalid", field, "must be a string");
  return truncateUtf8(outsideText(value), max);
}

function responseHeaders(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) {
    throw invalid("delivery.invalid", "attempt.responseHeaders", "must be an object of strings");
  }
  const out: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== "string") {
      throw invalid("delivery.invalid", `attempt.responseHeaders.${name}`, "must be a string");
    }
    out[outsideText(name.toLowerCase())] = truncateUtf8(outsideText(headerValue), 8192);
  }
  return out;
}

/** The attempt as logged: numbered by the adapter, body cut to MAX_RESPONSE_BODY_BYTES. */
export function attemptRecord(
  input: AttemptInput,
  deliveryId: string,
  number: number,
  clock: Clock,
): AttemptRecord {
  const code = "delivery.invalid";
  if (!isPlainObject(input)) throw invalid(code, "attempt", "must be an object");
  const statusCode = input.statusCode ?? null;
  if (
    statusCode !== null &&
    (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999)
  ) {
    throw invalid(code, "attempt.statusCode", "must be an HTTP status code");
  }
  return {
    id: newId("att", { clock }),
    deliveryId,
    number,
    startedAt: toIso(input.startedAt, "attempt.startedAt", code),
    durationMs: Math.round(nonNegativeNumber(input.durationMs, "attempt.durationMs", code)),
    succeeded: bool(input.succeeded, "attempt.succeeded", code),
    statusCode,
    responseHeaders: responseHeaders(input.responseHeaders),
    responseBody: optionalOutsideText(
      input.responseBody,
      "attempt.responseBody",
      MAX_RESPONSE_BODY_BYTES,
    ),
    error: optionalOutsideText(input.error, "attempt.error", MAX_TEXT_LENGTH),
  };
}
