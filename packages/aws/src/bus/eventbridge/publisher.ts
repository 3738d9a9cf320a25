// The EventBridge bus publisher: Herald's BusPublisher on PutEvents. A batch goes out in calls
// of at most 10 entries and 256 KB; in a partial failure only the failed entries are sent again,
// after a jittered backoff, so entries EventBridge accepted are never duplicated by Herald. An
// oversize entry refuses the whole batch before anything is sent.
import { setTimeout as sleep } from "node:timers/promises";
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from "@aws-sdk/client-eventbridge";
import type { BusMessage, BusPublisher, PublishAck } from "@heraldjs/core/internal/bus/port.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type AwsClientOptions, awsClientConfig } from "../../core/awsClientConfig.js";
import { putEventsChunks } from "../../core/eventBridgeLimits.js";
import { defaultDetailType, toPutEventsEntry } from "./entries.js";

export interface EventBridgePublisherOptions {
  /** A client of the caller's: borrowed, never destroyed by close(). Excludes `aws`. */
  client?: EventBridgeClient;
  /** Options for a client of the publisher's own, destroyed by close(). Excludes `client`. */
  aws?: AwsClientOptions;
  /** The event bus: its name or ARN. */
  eventBusName: string;
  /** The events' Source; default "herald". AWS reserves sources starting with "aws.". */
  source?: string;
  /** The events' DetailType; default the message's event type (its herald-event-type header). */
  detailType?: (message: BusMessage) => string;
  /** Times failed entries of a partial failure are sent again before giving up; default 5. */
  maxRetries?: number;
  /** Backoff before the first such retry, doubling each time (up to 20 s), jittered; default 100 ms. */
  retryDelayMs?: number;
  /** Gives an event its Time when its envelope has no parseable occurredAt. */
  clock?: Clock;
}

export interface EventBridgePublisher extends BusPublisher {
  /**
   * Publishes `messages` with as few PutEvents calls as the limits allow. Resolves (one ack per
   * message, in order) once EventBridge accepted every entry; rejects `bus.message_too_large`
   * or `message.invalid` before sending anything, and `bus.unavailable` when a call fails or
   * entries still fail after maxRetries — the caller then sends the whole batch again.
   */
  publishBatch(messages: readonly BusMessage[]): Promise<PublishAck[]>;
}

const MAX_RETRY_DELAY_MS = 20_000;
const MAX_BUS_NAME = 1600;
const MAX_SOURCE = 256;

function invalid(field: string, message: string): HeraldError {
  return new HeraldError("config.invalid", message, { details: { field } });
}

function checkOptions(options: EventBridgePublisherOptions): {
  source: string;
  maxRetries: number;
  retryDelayMs: number;
} {
  if (options.client !== undefined && options.aws !== undefined) {
    throw invalid("client", "Give the EventBridge publisher a client or aws options, not both");
  }
  const bus = options.eventBusName;
  if (typeof bus !== "string" || bus === "" || bus.length > MAX_BUS_NAME) {
    throw invalid("eventBusName", "eventBusName must be an event bus name or ARN");
  }
  const source = options.source ?? "herald";
  if (typeof source !== "string" || source === "" || source.length > MAX_SOURCE) {
    throw invalid("source", `source must be 1 to ${MAX_SOURCE} characters`);
  }
  if (source.toLowerCase().startsWith("aws.")) {
    throw invalid(
      "source",
      `source ${JSON.stringify(source)} starts with "aws.", which AWS reserves`,
    );
  }
  const maxRetries = options.maxRetries ?? 5;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw invalid("maxRetries", "maxRetries must be an integer >= 0");
  }
  const retryDelayMs = options.retryDelayMs ?? 100;
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
    throw invalid("retryDelayMs", "retryDelayMs must be a number >= 0");
  }
  return { source, maxRetries, retryDelayMs };
}

/** Retry n (n >= 1) waits in [d/2, d) with d = retryDelayMs × 2^(n-1), capped: "equal jitter". */
function backoff(retry: number, baseMs: number): number {
  const nominal = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** (retry - 1));
  return nominal / 2 + (Math.random() * nominal) / 2;
}

function unavailable(error: unknown, busName: string): HeraldError {
  const name = error instanceof Error ? error.name : "Error";
  const text = error instanceof Error ? error.message : String(error);
  return new HeraldError(
    "bus.unavailable",
    `EventBridge PutEvents to ${busName} failed: ${name}: ${text}`,
    { cause: error, details: { errorCode: name } },
  );
}

/** The EventBridge publisher; see EventBridgePublisherOptions. */
export function createEventBridgePublisher(
  options: EventBridgePublisherOptions,
): EventBridgePublisher {
  const { source, maxRetries, retryDelayMs } = checkOptions(options);
  const { eventBusName, clock = systemClock, detailType = defaultDetailType } = options;
  const owned = options.client === undefined;
  const client = options.client ?? new EventBridgeClient(awsClientConfig(options.aws));
  let closed = false;

  /** Sends one chunk; returns the entries EventBridge refused, with their error codes. */
  async function send(
    chunk: PutEventsRequestEntry[],
  ): Promise<{ entry: PutEventsRequestEntry; code: string }[]> {
    let results: PutEventsResultEntry[];
    let failedCount: number;
    try {
      const answer = await client.send(new PutEventsCommand({ Entries: chunk }));
      results = answer.Entries ?? [];
      failedCount = answer.FailedEntryCount ?? 0;
    } catch (error) {
      throw unavailable(error, eventBusName);
    }
    if (failedCount === 0) return [];
    // Results are index-aligned with the request. Without them Herald cannot tell which
    // entries were stored, so the whole batch is reported unpublished (the caller re-sends).
    if (results.length !== chunk.length) {
      throw new HeraldError(
        "bus.unavailable",
        `EventBridge reported ${failedCount} failed entries without one result per entry`,
        { details: { failed: failedCount } },
      );
    }
    const failed: { entry: PutEventsRequestEntry; code: string }[] = [];
    results.forEach((result, i) => {
      const entry = chunk[i];
      if (entry !== undefined && result.ErrorCode !== undefined && result.ErrorCode !== "") {
        failed.push({ entry, code: result.ErrorCode });
      }
    });
    return failed;
  }

  async function publishBatch(messages: readonly BusMessage[]): Promise<PublishAck[]> {
    if (closed) throw new HeraldError("bus.unavailable", "The EventBridge publisher is closed");
    const entryOptions = { eventBusName, source, detailType, clock };
    // Every entry is built and sized before the first call: a bad one refuses the whole batch.
    let pending = messages.map((message) => toPutEventsEntry(message, entryOptions));
    for (let retry = 0; pending.length > 0; retry++) {
      if (retry > 0) await sleep(backoff(retry, retryDelayMs));
      const failed: { entry: PutEventsRequestEntry; code: string }[] = [];
      for (const chunk of putEventsChunks(pending)) failed.push(...(await send(chunk)));
      if (failed.length === 0) break;
      if (retry === maxRetries) {
        const codes = [...new Set(failed.map((f) => f.code))].sort();
        throw new HeraldError(
          "bus.unavailable",
          `EventBridge refused ${failed.length} of ${messages.length} entries after ${maxRetries} retries (${codes.join(", ")})`,
          { details: { failed: failed.length, total: messages.length, errorCodes: codes } },
        );
      }
      pending = failed.map((f) => f.entry);
    }
    return messages.map(() => ({ duplicate: false }));
  }

  return {
    publishBatch,
    async publish(message) {
      const [ack] = await publishBatch([message]);
      return ack ?? { duplicate: false };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) client.destroy();
    },
  };
}
