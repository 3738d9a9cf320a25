// One append (or publish) as one TransactWriteItems: the HEAD moves from the version the writer
// saw to the new head (the optimistic-concurrency check), each event's V# item and its
// EVENTID# item are created only if absent (no two events at one version, no id twice), and a
// publish also moves the outbox counter and writes one O# item per event. DynamoDB applies all of
// it or nothing; each item's index in the transaction tells which condition failed.
import type { TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { atVersions, type PreparedAppend } from "@heraldjs/core/internal/model/appendRules.js";
import type { AppendResult, StoredEvent } from "@heraldjs/core/internal/store/ports.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  appendedCheckpoint,
  counterItem,
  eventIdItem,
  eventItem,
  headItem,
  type Item,
  itemBytes,
  outboxItem,
} from "./eventItems.js";

/** DynamoDB's limits on one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
/** DynamoDB's limit on one item (names and values). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** An append writes 1 + 2n items (HEAD; per event V# and EVENTID#): at most 49 events. */
export const MAX_APPEND_EVENTS = Math.floor((MAX_TRANSACTION_ITEMS - 1) / 2);
/** A publish writes 2 + 3n items (HEAD, outbox counter; per event V#, EVENTID#, O#): 32. */
export const MAX_PUBLISH_EVENTS = Math.floor((MAX_TRANSACTION_ITEMS - 2) / 3);

/** Where the transaction's items are, to read its cancellation reasons. */
export const HEAD_INDEX = 0;
export const COUNTER_INDEX = 1;

export interface AppendTransaction {
  items: TransactWriteItem[];
  /** What the append returns once the transaction has committed. */
  result: AppendResult;
}

function put(table: string, item: Item, condition: string, values?: Item): TransactWriteItem {
  return {
    Put: {
      TableName: table,
      Item: item,
      ConditionExpression: condition,
      ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
    },
  };
}

/** Put `item` only if it does not exist (`from` 0) or its `attribute` is still `from`. */
function moveFrom(table: string, item: Item, attribute: string, from: number): TransactWriteItem {
  if (from === 0) return put(table, item, "attribute_not_exists(PK)");
  return put(table, item, `${attribute} = :from`, { ":from": { N: String(from) } });
}

function storedEvents(
  prepared: PreparedAppend,
  head: number,
  committedAt: string,
  outboxSeq: number | undefined,
): StoredEvent[] {
  return atVersions(prepared, head + 1).map((envelope, index) => {
    const version = head + 1 + index;
    return {
      stream: prepared.stream,
      version,
      checkpoint:
        outboxSeq === undefined
          ? appendedCheckpoint(prepared.stream, version)
          : String(outboxSeq + 1 + index),
      envelope,
      committedAt,
    };
  });
}

/**
 * The transaction appending `prepared` after `head`; with `outboxSeq` (the counter read) it
 * publishes too: items [HEAD, counter?, V#…, EVENTID#…, O#…].
 */
export function appendTransaction(
  table: string,
  prepared: PreparedAppend,
  head: number,
  committedAt: string,
  outboxSeq?: number,
): AppendTransaction {
  const { aggregateType, aggregateId, stream } = prepared;
  const events = storedEvents(prepared, head, committedAt, outboxSeq);
  const toVersion = head + events.length;
  const items: TransactWriteItem[] = [
    moveFrom(table, headItem(aggregateType, aggregateId, toVersion), "currentVersion", head),
  ];
  if (outboxSeq !== undefined) {
    items.push(moveFrom(table, counterItem(outboxSeq + events.length), "seq", outboxSeq));
  }
  for (const event of events) {
    items.push(
      put(table, eventItem(event, aggregateType, aggregateId), "attribute_not_exists(PK)"),
    );
  }
  for (const event of events) {
    const item = eventIdItem(event.envelope.id, stream, event.version);
    items.push(put(table, item, "attribute_not_exists(PK)"));
  }
  if (outboxSeq !== undefined) {
    events.forEach((event, index) => {
      items.push(put(table, outboxItem(outboxSeq + 1 + index, event), "attribute_not_exists(PK)"));
    });
  }
  // Copies for the caller: what it changes in the result is not what was stored.
  const result: AppendResult = {
    stream,
    fromVersion: head + 1,
    toVersion,
    events: structuredClone(events),
    idempotent: false,
  };
  return { items, result };
}

/** Index of the first EVENTID# item in a transaction of `count` events. */
export function eventIdIndex(count: number, published: boolean): number {
  return (published ? 2 : 1) + count;
}

function tooLarge(message: string, details: Record<string, unknown>): HeraldError {
  return new HeraldError("stream.batch_too_large", message, { details });
}

/**
 * Refuses, before any I/O, a batch DynamoDB could not write in one transaction: more events than
 * MAX_APPEND_EVENTS / MAX_PUBLISH_EVENTS, an item over 400 KB, or over 4 MB in all. Sizes are
 * measured on the largest form the items can take (widest version and sequence numbers).
 */
export function checkBatchSize(table: string, prepared: PreparedAppend, published: boolean): void {
  const { stream } = prepared;
  const what = published ? "publish" : "append";
  const max = published ? MAX_PUBLISH_EVENTS : MAX_APPEND_EVENTS;
  const count = prepared.envelopes.length;
  if (count > max) {
    throw tooLarge(
      `${what} to ${stream}: ${count} events, at most ${max} fit in one DynamoDB transaction`,
      { stream, events: count, max },
    );
  }
  const widest = 9_999_999_999 - count;
  const committedAt = new Date(0).toISOString();
  const { items } = appendTransaction(
    table,
    prepared,
    widest,
    committedAt,
    published ? Number.MAX_SAFE_INTEGER - count : undefined,
  );
  let total = 0;
  items.forEach((entry, index) => {
    const bytes = itemBytes(entry.Put!.Item!);
    total += bytes;
    if (bytes > MAX_ITEM_BYTES) {
      const event = (index - (published ? 2 : 1)) % count;
      throw tooLarge(
        `${what} to ${stream}: events[${event}] makes a DynamoDB item of ${bytes} bytes, over the 400 KB item limit`,
        { stream, index: event, itemBytes: bytes, maxItemBytes: MAX_ITEM_BYTES },
      );
    }
  });
  if (total > MAX_TRANSACTION_BYTES) {
    throw tooLarge(
      `${what} to ${stream}: the batch makes ${total} bytes of DynamoDB items, over the 4 MB transaction limit`,
      { stream, events: count, bytes: total, maxBytes: MAX_TRANSACTION_BYTES },
    );
  }
}
