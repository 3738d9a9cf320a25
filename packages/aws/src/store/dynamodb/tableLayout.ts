// The DynamoDB tables' item keys, in one place: the event table (aggregates, their events, the
// event-id index, the outbox and checkpoints) and the inbox table. docs/aws.md shows the same
// layout; a test reads the items raw and checks them against it.

/** Zero-padded width of `V#…` sort keys, so versions sort as strings: `V#0000000001`. */
export const VERSION_DIGITS = 10;
/** Zero-padded width of outbox sort keys: `O#0000000000000001`. */
export const OUTBOX_DIGITS = 16;

/** Partition key attribute of both tables. */
export const PK = "PK";
/** Sort key attribute of both tables. */
export const SK = "SK";
/** The inbox table's TTL attribute: epoch seconds, as DynamoDB's TTL wants it. */
export const EXPIRES_AT = "expiresAt";

/** `AGG#{aggregateType}#{aggregateId}`: an aggregate's head and events. */
export function aggregateKey(aggregateType: string, aggregateId: string): string {
  return `AGG#${aggregateType}#${aggregateId}`;
}

/** The sort key of an aggregate's version pointer (attribute `currentVersion`). */
export const HEAD = "HEAD";

/** `V#{versionPadded}`: the sort key of one event. */
export function versionKey(version: number): string {
  return `V#${String(version).padStart(VERSION_DIGITS, "0")}`;
}

/** The prefix every event's sort key starts with (the `begins_with` of a load). */
export const VERSION_PREFIX = "V#";

/** `EVENTID#{eventId}` / `EVENTID`: which stream and version hold an event id (ids are unique). */
export function eventIdKey(eventId: string): { PK: string; SK: string } {
  return { PK: `EVENTID#${eventId}`, SK: "EVENTID" };
}

/** The outbox partition: the sequence counter and one item per published event. */
export const OUTBOX = "OUTBOX";
/** The sort key of the outbox's sequence counter (attribute `seq`). */
export const OUTBOX_SEQ = "SEQ";

/** `O#{seqPadded}`: the sort key of the outbox item at `seq`. */
export function outboxKey(seq: number): string {
  return `O#${String(seq).padStart(OUTBOX_DIGITS, "0")}`;
}

/** The prefix every outbox item's sort key starts with. */
export const OUTBOX_PREFIX = "O#";

/** `CHECKPOINT#{name}` / `CHECKPOINT`: a forwarder's or projection's saved cursor. */
export function checkpointKey(name: string): { PK: string; SK: string } {
  return { PK: `CHECKPOINT#${name}`, SK: "CHECKPOINT" };
}

/** `CONSUMER#{name}`: the inbox partition of one consumer. */
export function consumerKey(consumer: string): string {
  return `CONSUMER#${consumer}`;
}

/** `EVENT#{eventId}`: the inbox item of one event for one consumer. */
export function inboxEventKey(eventId: string): string {
  return `EVENT#${eventId}`;
}
