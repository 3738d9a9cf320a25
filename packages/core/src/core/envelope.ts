// The event envelope (v1): the shape every domain event and published message travels in.

import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { newUuid } from "./ids.js";
import { validateEnvelope } from "./validateEnvelope.js";

export { validateEnvelope } from "./validateEnvelope.js";

/** The stream an event belongs to and its position in it (versions start at 1). */
export interface EnvelopeAggregate {
  type: string;
  id: string;
  version: number;
}

export interface EventEnvelope<Payload extends object = JsonObject> {
  /** UUID, lowercase. */
  id: string;
  /** Versioned event type, `order.created.v1`; see EVENT_TYPE_PATTERN in eventType.ts. */
  type: string;
  /** RFC 3339 date-time with an explicit offset; `createEnvelope` writes UTC with milliseconds. */
  occurredAt: string;
  /** Name of the producing service. */
  source: string;
  /** Shared by every event of one business flow; the first event's id when started by `causedBy`. */
  correlationId?: string;
  /** Id of the event (or command) that directly caused this one. */
  causationId?: string;
  aggregate?: EnvelopeAggregate;
  payload: Payload;
  /** Free-form JSON for cross-cutting data (tenant, trace ids, CloudEvents extensions). */
  metadata: JsonObject;
}

export interface EnvelopeInput<Payload extends object = JsonObject> {
  type: string;
  source: string;
  payload: Payload;
  /** Defaults to a new UUID. */
  id?: string;
  /** Defaults to the clock's current time. */
  occurredAt?: string | Date;
  correlationId?: string;
  causationId?: string;
  aggregate?: EnvelopeAggregate;
  /** Defaults to `{}`. */
  metadata?: JsonObject;
}

export interface CreateEnvelopeOptions {
  clock?: Clock;
  /**
   * The event this one reacts to: sets `causationId` to its id and carries its correlation
   * (or its id when it started the flow). Explicit `correlationId`/`causationId` win.
   */
  causedBy?: Pick<EventEnvelope<object>, "id" | "correlationId">;
}

function occurredAtString(value: string | Date | undefined, clock: Clock): string {
  if (value === undefined) return new Date(clock.now()).toISOString();
  if (typeof value === "string") return value;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new HeraldError("envelope.invalid", "Invalid envelope: occurredAt is an invalid Date", {
      details: { path: "occurredAt" },
    });
  }
  return value.toISOString();
}

/**
 * Builds a v1 envelope, filling `id`, `occurredAt` and `metadata`, and validates the result
 * (HeraldError `envelope.invalid`). Payload and metadata are kept by reference, not copied.
 */
export function createEnvelope<Payload extends object = JsonObject>(
  input: EnvelopeInput<Payload>,
  options: CreateEnvelopeOptions = {},
): EventEnvelope<Payload> {
  const { clock = systemClock, causedBy } = options;
  const candidate: Record<string, unknown> = {
    id: input.id ?? newUuid(),
    type: input.type,
    occurredAt: occurredAtString(input.occurredAt, clock),
    source: input.source,
    correlationId: input.correlationId ?? (causedBy && (causedBy.correlationId ?? causedBy.id)),
    causationId: input.causationId ?? causedBy?.id,
    aggregate: input.aggregate,
    payload: input.payload,
    metadata: input.metadata ?? {},
  };
  // validateEnvelope proved the payload is a plain JSON object; the caller's static type for it
  // is the more precise one to hand back.
  return validateEnvelope(candidate) as EventEnvelope<object> as EventEnvelope<Payload>;
}
