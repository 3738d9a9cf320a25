// DynamoDB DedupeStore over the inbox table (see inboxItems.ts for which item a key lives in).
// A claim is one conditional PutItem that creates the item or takes over an expired one;
// complete and release are conditional writes that compare the token, so a stale token never
// touches a newer claim. Conditions compare the exact expiry in milliseconds (`expiresAtMs`);
// `expiresAt` (epoch seconds) only feeds DynamoDB's TTL, which deletes expired items lazily, up
// to days later, so every read treats an expired item as absent and nothing needs pruning.
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DedupeClaim, PrunableDedupeStore } from "@heraldjs/core/internal/store/ports.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type AwsClientOptions, awsClientConfig } from "../../core/awsClientConfig.js";
import {
  EXPIRES_AT,
  EXPIRES_AT_MS,
  type InboxItemKey,
  inboxItemKey,
  marshalKey,
  STATE,
  TOKEN,
  ttlSeconds,
  unmarshalEntry,
} from "./inboxItems.js";
import { checkTableName } from "./tables.js";

export type DynamoDedupeStoreOptions = {
  /** The inbox table, as created by `ensureTables(client, { events, inbox })`. */
  table: string;
  /** Time source for leases and ttls; default the system clock. */
  clock?: Clock;
} & (
  | {
      /** A client you own and configure: the store never destroys it. */
      client: DynamoDBClient;
      aws?: undefined;
    }
  | {
      /** Options for a client the store creates (and destroys on close); `{}` for the SDK's. */
      aws: AwsClientOptions;
      client?: undefined;
    }
);

// Names for every attribute an expression uses (`state` and `token` are reserved words).
const NAMES = {
  "#pk": "PK",
  "#state": STATE,
  "#token": TOKEN,
  "#expiresAtMs": EXPIRES_AT_MS,
  "#expiresAt": EXPIRES_AT,
};
const CLAIM_CONDITION =
  "attribute_not_exists(#pk) OR attribute_not_exists(#expiresAtMs) OR #expiresAtMs <= :now";
const COMPLETE_UPDATE = "SET #state = :done, #expiresAtMs = :expiresAtMs, #expiresAt = :expiresAt";
const COMPLETE_CONDITION = "#token = :token AND #state = :processing AND #expiresAtMs > :now";
const RELEASE_CONDITION = "#token = :token AND #state = :processing";

/** Claim attempts when the refusing item expires before it can be read (each one a race lost). */
const CLAIM_ATTEMPTS = 5;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

/** Leases and ttls are positive, finite milliseconds (a NaN would make a key unexpirable). */
function checkDuration(name: "leaseMs" | "ttlMs", ms: number): void {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    throw new HeraldError(
      "config.invalid",
      `${name} must be a finite number of milliseconds > 0, got ${String(ms)}`,
      { details: { field: name } },
    );
  }
}

/**
 * A DedupeStore on DynamoDB's inbox table. `prune()` returns 0: DynamoDB's TTL on `expiresAt`
 * deletes expired items itself, and reads ignore those it has not deleted yet. Calls reject
 * with HeraldError `store.unavailable` (naming the table, the SDK error as cause) when DynamoDB
 * cannot be reached, throttles, or the table is missing, and once the store is closed.
 */
export function createDynamoDedupeStore(options: DynamoDedupeStoreOptions): PrunableDedupeStore {
  const table = checkTableName(options.table, "table");
  const clock = options.clock ?? systemClock;
  const hasClient = options.client !== undefined;
  if (hasClient === (options.aws !== undefined)) {
    throw new HeraldError(
      "config.invalid",
      "createDynamoDedupeStore takes exactly one of client (a DynamoDBClient) and aws (client options)",
      { details: { field: hasClient ? "aws" : "client" } },
    );
  }
  const ownsClient = !hasClient;
  const client = options.client ?? new DynamoDBClient(awsClientConfig(options.aws));
  let closed = false;

  function open(): void {
    if (closed) {
      throw new HeraldError("store.unavailable", `The DynamoDB dedupe store (${table}) is closed`, {
        details: { table },
      });
    }
  }

  /** `error` from `what`, as store.unavailable naming the table (HeraldErrors pass through). */
  function translate(what: string, error: unknown): unknown {
    if (isHeraldError(error)) return error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new HeraldError(
      "store.unavailable",
      `DynamoDB inbox table ${table}: ${what} failed: ${reason}`,
      { cause: error, details: { table } },
    );
  }

  // One conditional put; undefined when the refusing item turned out expired or gone by the
  // time it was read (then the key is free: the caller tries again).
  async function claimOnce(key: InboxItemKey, leaseMs: number): Promise<DedupeClaim | undefined> {
    const now = clock.now();
    const token = randomUUID();
    const expiresAtMs = Math.ceil(now + leaseMs);
    let refusing: Record<string, AttributeValue> | undefined;
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            ...marshalKey(key),
            [STATE]: s("processing"),
            [TOKEN]: s(token),
            [EXPIRES_AT_MS]: n(expiresAtMs),
            [EXPIRES_AT]: n(ttlSeconds(expiresAtMs)),
          },
          ConditionExpression: CLAIM_CONDITION,
          ExpressionAttributeNames: {
            "#pk": NAMES["#pk"],
            "#expiresAtMs": NAMES["#expiresAtMs"],
          },
          ExpressionAttributeValues: { ":now": n(now) },
          // The item that refused the put, so a refusal costs no second read.
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { claimed: true, token };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      refusing = error.Item;
    }
    if (refusing === undefined) {
      const read = await client.send(
        new GetItemCommand({ TableName: table, Key: marshalKey(key), ConsistentRead: true }),
      );
      refusing = read.Item;
    }
    const entry = unmarshalEntry(refusing);
    if (entry === undefined || entry.expiresAtMs <= clock.now()) return undefined;
    return { claimed: false, state: entry.state };
  }

  return {
    async claim(key, leaseMs) {
      try {
        open();
        checkDuration("leaseMs", leaseMs);
        const item = inboxItemKey(key);
        for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
          const claim = await claimOnce(item, leaseMs);
          if (claim !== undefined) return claim;
        }
        throw new HeraldError(
          "store.unavailable",
          `DynamoDB inbox table ${table}: could not claim the key in ${CLAIM_ATTEMPTS} attempts`,
          { details: { table } },
        );
      } catch (error) {
        throw translate("claim", error);
      }
    },

    async complete(key, token, ttlMs) {
      try {
        open();
        checkDuration("ttlMs", ttlMs);
        const now = clock.now();
        const expiresAtMs = Math.ceil(now + ttlMs);
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: marshalKey(inboxItemKey(key)),
            UpdateExpression: COMPLETE_UPDATE,
            ConditionExpression: COMPLETE_CONDITION,
            ExpressionAttributeNames: {
              "#state": NAMES["#state"],
              "#token": NAMES["#token"],
              "#expiresAtMs": NAMES["#expiresAtMs"],
              "#expiresAt": NAMES["#expiresAt"],
            },
            ExpressionAttributeValues: {
              ":done": s("done"),
              ":processing": s("processing"),
              ":token": s(token),
              ":now": n(now),
              ":expiresAtMs": n(expiresAtMs),
              ":expiresAt": n(ttlSeconds(expiresAtMs)),
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw translate("complete", error);
      }
    },

    async release(key, token) {
      try {
        open();
        await client.send(
          new DeleteItemCommand({
            TableName: table,
            Key: marshalKey(inboxItemKey(key)),
            ConditionExpression: RELEASE_CONDITION,
            ExpressionAttributeNames: { "#state": NAMES["#state"], "#token": NAMES["#token"] },
            ExpressionAttributeValues: { ":processing": s("processing"), ":token": s(token) },
          }),
        );
      } catch (error) {
        // The token no longer owns the key: nothing to release.
        if (error instanceof ConditionalCheckFailedException) return;
        throw translate("release", error);
      }
    },

    /** 0: DynamoDB's TTL deletes expired items; reads already treat them as absent. */
    async prune() {
      open();
      return 0;
    },

    async close() {
      if (closed) return;
      closed = true;
      if (ownsClient) client.destroy();
    },
  };
}
