// The event store's reads, all strongly consistent (ConsistentRead): a stream's head, a range of
// its events, where a batch's event ids are stored, and the outbox from a sequence number on.
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import type { StoredId } from "@heraldjs/core/internal/model/appendRules.js";
import type { StoredEvent } from "@heraldjs/core/internal/store/ports.js";
import {
  ATTR,
  counterKey,
  eventIdItemKey,
  headKey,
  type Item,
  readNumber,
  readString,
  storedFromItem,
} from "./eventItems.js";
import {
  aggregateKey,
  OUTBOX,
  outboxKey,
  PK,
  SK,
  VERSION_PREFIX,
  versionKey,
} from "./tableLayout.js";

/** The highest version a V# key can hold (10 digits). */
const LAST_VERSION = 9_999_999_999;

export async function readHead(
  client: DynamoDBClient,
  table: string,
  aggregateType: string,
  aggregateId: string,
): Promise<number> {
  const { Item: item } = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: headKey(aggregateType, aggregateId),
      ConsistentRead: true,
    }),
  );
  return item === undefined ? 0 : readNumber(item, ATTR.currentVersion);
}

/** The outbox counter: the sequence number of the last published event (0 when none). */
export async function readCounter(client: DynamoDBClient, table: string): Promise<number> {
  const { Item: item } = await client.send(
    new GetItemCommand({ TableName: table, Key: counterKey, ConsistentRead: true }),
  );
  return item === undefined ? 0 : readNumber(item, ATTR.seq);
}

/** Sort keys a query selects: those starting with a prefix, or those between two keys. */
type SortKeys = { prefix: string } | { from: string; to: string };

function sortKeyCondition(keys: SortKeys): {
  expression: string;
  values: Record<string, { S: string }>;
} {
  return "prefix" in keys
    ? { expression: "begins_with(#sk, :prefix)", values: { ":prefix": { S: keys.prefix } } }
    : {
        expression: "#sk BETWEEN :from AND :to",
        values: { ":from": { S: keys.from }, ":to": { S: keys.to } },
      };
}

/** Queries `PK` for the sort keys `keys` selects, paging, until `limit` items. */
async function queryRange(
  client: DynamoDBClient,
  table: string,
  pk: string,
  keys: SortKeys,
  limit: number | undefined,
): Promise<Item[]> {
  const items: Item[] = [];
  const condition = sortKeyCondition(keys);
  let start: Item | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: `#pk = :pk AND ${condition.expression}`,
        ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
        ExpressionAttributeValues: { ":pk": { S: pk }, ...condition.values },
        ConsistentRead: true,
        ...(limit === undefined ? {} : { Limit: limit - items.length }),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && (limit === undefined || items.length < limit));
  return items;
}

/** A stream's events from `fromVersion` on, at most `limit`, in version order. */
export async function loadEvents(
  client: DynamoDBClient,
  table: string,
  aggregateType: string,
  aggregateId: string,
  fromVersion: number,
  limit: number | undefined,
): Promise<StoredEvent[]> {
  if (fromVersion > LAST_VERSION) return [];
  // The whole stream: every sort key starting with V#. From a later version: the V# keys from
  // that version's to the last one (DynamoDB takes one condition per sort key).
  const keys: SortKeys =
    fromVersion === 1
      ? { prefix: VERSION_PREFIX }
      : { from: versionKey(fromVersion), to: versionKey(LAST_VERSION) };
  const items = await queryRange(
    client,
    table,
    aggregateKey(aggregateType, aggregateId),
    keys,
    limit,
  );
  return items.map(storedFromItem);
}

/** Outbox events with sequence numbers `after` < seq <= `upTo`, at most `limit`. */
export async function readOutboxRange(
  client: DynamoDBClient,
  table: string,
  after: number,
  upTo: number,
  limit: number,
): Promise<StoredEvent[]> {
  if (after >= upTo) return [];
  const items = await queryRange(
    client,
    table,
    OUTBOX,
    { from: outboxKey(after + 1), to: outboxKey(upTo) },
    limit,
  );
  return items.map(storedFromItem);
}

/** Where the given ids are stored (BatchGetItem, consistent; unprocessed keys asked again). */
export async function readStoredIds(
  client: DynamoDBClient,
  table: string,
  ids: readonly string[],
): Promise<StoredId[]> {
  const stored: StoredId[] = [];
  let keys: Item[] = ids.map(eventIdItemKey);
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    const answer = await client.send(
      new BatchGetItemCommand({
        RequestItems: { [table]: { Keys: keys, ConsistentRead: true } },
      }),
    );
    for (const item of answer.Responses?.[table] ?? []) {
      stored.push({
        eventId: readString(item, PK).slice("EVENTID#".length),
        stream: readString(item, ATTR.stream),
        version: readNumber(item, ATTR.version),
      });
    }
    keys = answer.UnprocessedKeys?.[table]?.Keys ?? [];
    if (attempt >= 8 && keys.length > 0) {
      throw Object.assign(new Error("BatchGetItem left keys unprocessed"), {
        name: "UnprocessedKeys",
      });
    }
  }
  return stored;
}
