// The inbox table's items: which item a DedupeStore key lives in, and what the item holds.
// Inbox keys (`inbox:<consumer>:<eventId>`, written by core's inboxKey) go to the consumer's
// partition, `CONSUMER#{consumer}` / `EVENT#{eventId}`, so one consumer's handled events sit
// together; every other key (a webhook receiver's dedupe keys, for instance) gets an item of its
// own at `KEY#{key}` / `KEY`. The two families never meet (`CONSUMER#…` vs `KEY#…` partitions)
// and each is read back unambiguously, so two different keys never share an item.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { consumerKey, EXPIRES_AT, inboxEventKey, PK, SK } from "./tableLayout.js";

/** `processing` (leased to `token` until `expiresAtMs`) or `done` (kept until `expiresAtMs`). */
export const STATE = "state";
/** The claim's random token (S): complete and release compare it. */
export const TOKEN = "token";
/** Exact expiry in epoch milliseconds (N): every condition and read uses this one. */
export const EXPIRES_AT_MS = "expiresAtMs";
/** The DynamoDB TTL attribute: epoch seconds, `ceil(expiresAtMs / 1000)`. */
export { EXPIRES_AT };

/** The sort key of a non-inbox key's item (its partition is `KEY#{key}`). */
export const PLAIN_KEY_SK = "KEY";

/** DynamoDB's limits on key attribute values, in UTF-8 bytes. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

const INBOX_PREFIX = "inbox:";

export interface InboxItemKey {
  PK: string;
  SK: string;
}

/**
 * The item of DedupeStore key `key`. `inbox:<consumer>:<eventId>` (a non-empty consumer without
 * ":", then a non-empty event id, which may hold ":") → `CONSUMER#{consumer}` / `EVENT#{eventId}`;
 * anything else, `inbox:` keys that do not have that form included → `KEY#{key}` / `KEY`.
 * Throws HeraldError `inbox.invalid_key` for a key DynamoDB could not store (empty, or a key
 * attribute over 2048 / 1024 UTF-8 bytes).
 */
export function inboxItemKey(key: string): InboxItemKey {
  if (typeof key !== "string" || key.length === 0) {
    throw new HeraldError("inbox.invalid_key", "A dedupe key must be a non-empty string");
  }
  let item: InboxItemKey = { PK: `KEY#${key}`, SK: PLAIN_KEY_SK };
  if (key.startsWith(INBOX_PREFIX)) {
    const rest = key.slice(INBOX_PREFIX.length);
    const colon = rest.indexOf(":");
    if (colon > 0 && colon < rest.length - 1) {
      item = { PK: consumerKey(rest.slice(0, colon)), SK: inboxEventKey(rest.slice(colon + 1)) };
    }
  }
  const pkBytes = Buffer.byteLength(item.PK, "utf8");
  const skBytes = Buffer.byteLength(item.SK, "utf8");
  if (pkBytes > MAX_PARTITION_KEY_BYTES || skBytes > MAX_SORT_KEY_BYTES) {
    throw new HeraldError(
      "inbox.invalid_key",
      `The dedupe key is too long for DynamoDB (partition key ${pkBytes} of ${MAX_PARTITION_KEY_BYTES} bytes, sort key ${skBytes} of ${MAX_SORT_KEY_BYTES})`,
      { details: { partitionKeyBytes: pkBytes, sortKeyBytes: skBytes } },
    );
  }
  return item;
}

/** The key attributes of `key`'s item, marshalled. */
export function marshalKey(key: InboxItemKey): Record<typeof PK | typeof SK, { S: string }> {
  return { [PK]: { S: key.PK }, [SK]: { S: key.SK } };
}

/** An item read back: its state and exact expiry, or undefined when it is not an inbox entry. */
export interface InboxEntry {
  state: "processing" | "done";
  expiresAtMs: number;
}

/** Reads `state` and `expiresAtMs` of a raw item; anything but `done` counts as processing. */
export function unmarshalEntry(
  item: Record<string, AttributeValue> | undefined,
): InboxEntry | undefined {
  if (item === undefined) return undefined;
  const expiresAtMs = Number(item[EXPIRES_AT_MS]?.N);
  if (!Number.isFinite(expiresAtMs)) return undefined;
  return { state: item[STATE]?.S === "done" ? "done" : "processing", expiresAtMs };
}

/** Epoch seconds for DynamoDB's TTL, never earlier than the exact expiry. */
export function ttlSeconds(expiresAtMs: number): number {
  return Math.ceil(expiresAtMs / 1000);
}
