// Turns a stored event row (the columns both SQL dialects share) back into a StoredEvent.

import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import type { EventEnvelope } from "../../core/envelope.js";
import { parseStreamName } from "../../model/streamName.js";
import type { StoredEvent } from "../ports.js";

export interface EventColumns {
  stream: string;
  version: number;
  event_id: string;
  type: string;
  source: string;
  occurred_at: string;
  correlation_id: string | null;
  causation_id: string | null;
  payload: JsonObject;
  metadata: JsonObject;
}

/** The envelope in validateEnvelope's canonical key order, absent optionals left out. */
function envelopeFromColumns(row: EventColumns): EventEnvelope {
  const { type, id } = parseStreamName(row.stream);
  return {
    id: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at,
    source: row.source,
    ...(row.correlation_id === null ? {} : { correlationId: row.correlation_id }),
    ...(row.causation_id === null ? {} : { causationId: row.causation_id }),
    aggregate: { type, id, version: row.version },
    payload: row.payload,
    metadata: row.metadata,
  };
}

export function storedEvent(
  row: EventColumns,
  checkpoint: string,
  committedAt: string,
): StoredEvent {
  return {
    stream: row.stream,
    version: row.version,
    checkpoint,
    envelope: envelopeFromColumns(row),
    committedAt,
  };
}
