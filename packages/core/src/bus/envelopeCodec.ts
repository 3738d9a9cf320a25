// Envelope ↔ bus message: the body is the envelope as JSON (structured, self-contained); the
// headers repeat the fields a router or a broker needs without parsing the body.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { EventEnvelope } from "../core/envelope.js";
import { validateEnvelope } from "../core/validateEnvelope.js";
import type { BusMessage } from "./port.js";
import { type SubjectOptions, subjectFor } from "./subject.js";

/** Header names Herald sets on bus messages (lowercase; NATS headers are case-insensitive). */
export const BUS_HEADERS = {
  contentType: "content-type",
  eventId: "herald-event-id",
  eventType: "herald-event-type",
  source: "herald-source",
  correlationId: "herald-correlation-id",
  causationId: "herald-causation-id",
} as const;

export const ENVELOPE_CONTENT_TYPE = "application/json";

export interface EncodeEnvelopeOptions extends SubjectOptions {
  /** Overrides the subject; default subjectFor(envelope, options). */
  subject?: string;
}

/** The bus message carrying `envelope`; its id is the event id, so the bus dedupes re-sends. */
export function envelopeToMessage(
  envelope: EventEnvelope<object>,
  options: EncodeEnvelopeOptions = {},
): BusMessage {
  const headers: Record<string, string> = {
    [BUS_HEADERS.contentType]: ENVELOPE_CONTENT_TYPE,
    [BUS_HEADERS.eventId]: envelope.id,
    [BUS_HEADERS.eventType]: envelope.type,
    [BUS_HEADERS.source]: envelope.source,
  };
  if (envelope.correlationId !== undefined) {
    headers[BUS_HEADERS.correlationId] = envelope.correlationId;
  }
  if (envelope.causationId !== undefined) headers[BUS_HEADERS.causationId] = envelope.causationId;
  return {
    id: envelope.id,
    subject: options.subject ?? subjectFor(envelope, options),
    data: new TextEncoder().encode(JSON.stringify(envelope)),
    headers,
  };
}

/**
 * The validated envelope in `message`. Throws HeraldError `envelope.invalid` when the body is
 * not a v1 envelope — a poison message: redelivering it cannot help.
 */
export function messageToEnvelope(message: Pick<BusMessage, "data">): EventEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(message.data));
  } catch (error) {
    throw new HeraldError("envelope.invalid", "Invalid envelope: the message body is not JSON", {
      cause: error,
      details: { path: "" },
    });
  }
  return validateEnvelope(parsed);
}
