// The event table's items as the SDK sends them (attribute values marshalled by hand) and back:
// an aggregate's HEAD, one item per event (V#), the event-id index (EVENTID#), the outbox items
// (O#) and checkpoints. Item sizes are estimated the way DynamoDB counts them, for the limits.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { EventEnvelope } from "@heraldjs/core/internal/core/envelope.js";
import type { StoredEvent } from "@heraldjs/core/internal/store/ports.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  aggregateKey,
  eventIdKey,
  HEAD,
  OUTBOX,
  OUTBOX_SEQ,
  outboxKey,
  PK,
  SK,
  versionKey,
} from "./tableLayout.js";

export type Item = Record<string, AttributeValue>;

/** Attribute names of the event table's items (beside PK and SK). */
export const ATTR = {
  currentVersion: "currentVersion",
  eventId: "eventId",
  eventType: "eventType",
  version: "version",
  envelope: "envelope",
  committedAt: "committedAt",
  stream: "stream",
  checkpoint: "checkpoint",
  seq: "seq",
} as const;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

/**
 * The checkpoint of an event stored by `append` (not published): it is no position in any log
 * (DynamoDB keeps no global order), so it has a form readOutbox refuses (`checkpoint.invalid`).
 */
export function appendedCheckpoint(stream: string, version: number): string {
  return `a:${stream}:${version}`;
}

export function headKey(aggregateType: string, aggregateId: string): Item {
  return { [PK]: s(aggregateKey(aggregateType, aggregateId)), [SK]: s(HEAD) };
}

export function headItem(aggregateType: string, aggregateId: string, version: number): Item {
  return { ...headKey(aggregateType, aggregateId), [ATTR.currentVersion]: n(version) };
}

export const counterKey: Item = { [PK]: s(OUTBOX), [SK]: s(OUTBOX_SEQ) };

export function counterItem(seq: number): Item {
  return { ...counterKey, [ATTR.seq]: n(seq) };
}

export function eventItem(event: StoredEvent, aggregateType: string, aggregateId: string): Item {
  return {
    [PK]: s(aggregateKey(aggregateType, aggregateId)),
    [SK]: s(versionKey(event.version)),
    [ATTR.eventId]: s(event.envelope.id),
    [ATTR.eventType]: s(event.envelope.type),
    [ATTR.version]: n(event.version),
    [ATTR.stream]: s(event.stream),
    [ATTR.checkpoint]: s(event.checkpoint),
    [ATTR.committedAt]: s(event.committedAt),
    [ATTR.envelope]: s(JSON.stringify(event.envelope)),
  };
}

export function eventIdItem(eventId: string, stream: string, version: number): Item {
  const key = eventIdKey(eventId);
  return {
    [PK]: s(key.PK),
    [SK]: s(key.SK),
    [ATTR.stream]: s(stream),
    [ATTR.version]: n(version),
  };
}

export function eventIdItemKey(eventId: string): Item {
  const key = eventIdKey(eventId);
  return { [PK]: s(key.PK), [SK]: s(key.SK) };
}

export function outboxItem(seq: number, event: StoredEvent): Item {
  return {
    [PK]: s(OUTBOX),
    [SK]: s(outboxKey(seq)),
    [ATTR.seq]: n(seq),
    [ATTR.eventId]: s(event.envelope.id),
    [ATTR.stream]: s(event.stream),
    [ATTR.version]: n(event.version),
    [ATTR.committedAt]: s(event.committedAt),
    [ATTR.envelope]: s(JSON.stringify(event.envelope)),
  };
}

function corrupt(what: string, item: Item): HeraldError {
  return new HeraldError(
    "store.unavailable",
    `DynamoDB event store: an item lacks ${what} (written by something else?)`,
    { details: { PK: item[PK]?.S, SK: item[SK]?.S } },
  );
}

export function readString(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw corrupt(name, item);
  return value;
}

export function readNumber(item: Item, name: string): number {
  const value = Number(item[name]?.N);
  if (!Number.isSafeInteger(value)) throw corrupt(name, item);
  return value;
}

/** The item's envelope: a JSON object, or the item is reported like one missing it. */
function readEnvelope(item: Item): EventEnvelope {
  let envelope: unknown;
  try {
    envelope = JSON.parse(readString(item, ATTR.envelope));
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw corrupt("a JSON envelope", item);
  }
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw corrupt("a JSON envelope", item);
  }
  return envelope as EventEnvelope;
}

/** A V# or O# item back as a StoredEvent (O# items' checkpoint is their sequence number). */
export function storedFromItem(item: Item): StoredEvent {
  const checkpoint =
    item[ATTR.checkpoint]?.S ?? (item[ATTR.seq] ? String(readNumber(item, ATTR.seq)) : undefined);
  if (checkpoint === undefined) throw corrupt(ATTR.checkpoint, item);
  return {
    stream: readString(item, ATTR.stream),
    version: readNumber(item, ATTR.version),
    checkpoint,
    envelope: readEnvelope(item),
    committedAt: readString(item, ATTR.committedAt),
  };
}

/**
 * An item's size as DynamoDB counts it: each attribute name's UTF-8 bytes plus its value's
 * (strings by their UTF-8 bytes; numbers counted at their 21-byte maximum, an upper bound).
 */
export function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name, "utf8");
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S, "utf8");
    else if (value.N !== undefined) bytes += 21;
  }
  return bytes;
}
