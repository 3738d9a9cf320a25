// createMessages as one rule for every backend: the inputs are checked, then decided in order —
// created, a duplicate of an earlier input of the batch, or a duplicate of a stored message —
// against what the adapter reads inside its transaction. The adapter then writes exactly the
// plan, so memory, SQLite and PostgreSQL agree on every batch.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { invalid } from "./check.js";
import type {
  CreateMessageInput,
  CreateMessageResult,
  MessageWithDeliveries,
} from "./deliveryOperations.js";
import { type InboundKeyRow, isLive } from "./inboundKeys.js";
import { endpointNotFound } from "./lifecycle.js";
import { compareText } from "./listQuery.js";
import { type NewMessage, newMessageRecords } from "./messageRecords.js";

/** What the batch reads from the store: who holds an idempotency key or a dedupe key. */
export interface BatchHolders {
  /** The stored message with this idempotency key in this tenant. */
  idempotent(tenant: string, key: string): string | undefined;
  /** The stored dedupe key of this source, live or expired. */
  inbound(source: string, key: string): { messageId: string; expiresAt: string } | undefined;
}

export type BatchOutcome =
  | { kind: "created" }
  /** A duplicate of the earlier input at `of`, created by this batch. */
  | { kind: "duplicate"; of: number }
  /** A duplicate of a stored message. */
  | { kind: "existing"; messageId: string };

interface BatchPlan {
  outcomes: BatchOutcome[];
  /** The inputs to store, in order, with their index in the batch. */
  created: { index: number; records: NewMessage }[];
  /**
   * The dedupe keys to write (insert, or replace an expired one): one per source and key, held
   * by the last input of the batch that took it.
   */
  keys: InboundKeyRow[];
  /** The stored messages some inputs duplicate. */
  existingIds: string[];
  /**
   * Each event type of the messages to store with how many there are, by name: the catalogue
   * counts them in the same transaction (a type seen for the first time is recorded `auto`).
   */
  types: { name: string; count: number }[];
}

/** The created messages' types with their counts, sorted (every writer locks rows in one order). */
function typeCounts(created: BatchPlan["created"]): BatchPlan["types"] {
  const counts = new Map<string, number>();
  for (const { records } of created) {
    const { type } = records.message;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => compareText(a, b))
    .map(([name, count]) => ({ name, count }));
}

const pair = (a: string, b: string) => `${a}\0${b}`; // NUL is refused in both parts

/** Re-throws `error` naming the input (`details.index`) when the batch has several. */
function atIndex(error: unknown, index: number, size: number): unknown {
  if (size === 1 || !isHeraldError(error)) return error;
  return new HeraldError(error.code, `inputs[${index}]: ${error.message}`, {
    details: { ...error.details, index },
    cause: error.cause,
  });
}

/** Checks every input and builds its records (ids from `clock`); nothing is read or written. */
export function newBatchRecords(
  inputs: readonly CreateMessageInput[],
  nowIso: string,
  clock: Clock,
): NewMessage[] {
  if (!Array.isArray(inputs)) throw invalid("message.invalid", "inputs", "must be an array");
  return inputs.map((input, i) => {
    try {
      return newMessageRecords(input, nowIso, clock);
    } catch (error) {
      throw atIndex(error, i, inputs.length);
    }
  });
}

/** Decides each input in order: a later input sees what the earlier ones created. */
export function planBatch(
  records: readonly NewMessage[],
  nowIso: string,
  holders: BatchHolders,
): BatchPlan {
  const outcomes: BatchOutcome[] = [];
  const created: BatchPlan["created"] = [];
  const existing = new Set<string>();
  const idempotencyKeys = new Map<string, number>(); // taken by this batch → input index
  const keys = new Map<string, InboundKeyRow & { index: number }>(); // taken by this batch

  const decide = ({ message, inboundKey }: NewMessage): BatchOutcome => {
    if (message.idempotencyKey !== null) {
      const taken = idempotencyKeys.get(pair(message.tenant, message.idempotencyKey));
      if (taken !== undefined) return { kind: "duplicate", of: taken };
      const stored = holders.idempotent(message.tenant, message.idempotencyKey);
      if (stored !== undefined) return { kind: "existing", messageId: stored };
    }
    if (inboundKey !== null) {
      const taken = keys.get(pair(inboundKey.source, inboundKey.key));
      if (taken !== undefined) {
        if (isLive(taken, nowIso)) return { kind: "duplicate", of: taken.index };
      } else {
        const stored = holders.inbound(inboundKey.source, inboundKey.key);
        if (stored !== undefined && isLive(stored, nowIso)) {
          return { kind: "existing", messageId: stored.messageId };
        }
      }
    }
    return { kind: "created" };
  };

  records.forEach((records, index) => {
    const outcome = decide(records);
    outcomes.push(outcome);
    if (outcome.kind === "existing") existing.add(outcome.messageId);
    if (outcome.kind !== "created") return;
    created.push({ index, records });
    const { message, inboundKey } = records;
    if (message.idempotencyKey !== null) {
      idempotencyKeys.set(pair(message.tenant, message.idempotencyKey), index);
    }
    if (inboundKey !== null) {
      keys.set(pair(inboundKey.source, inboundKey.key), {
        ...inboundKey,
        messageId: message.id,
        index,
      });
    }
  });

  return {
    outcomes,
    created,
    keys: [...keys.values()].map(({ index: _, ...row }) => row),
    existingIds: [...existing],
    types: typeCounts(created),
  };
}

/** Throws `endpoint.not_found` for the first delivery of a created input naming an unknown one. */
export function assertEndpoints(
  plan: BatchPlan,
  size: number,
  known: (endpointId: string) => boolean,
): void {
  for (const { index, records } of plan.created) {
    const missing = records.deliveries.find((d) => !known(d.endpointId));
    if (missing !== undefined) throw atIndex(endpointNotFound(missing.endpointId), index, size);
  }
}

/**
 * One result per input. `stored` gives each of `plan.existingIds` (the adapter reads them in
 * its transaction). Duplicates get copies, so no two results share an object.
 */
export function batchResults(
  records: readonly NewMessage[],
  plan: BatchPlan,
  stored: (messageId: string) => MessageWithDeliveries,
): CreateMessageResult[] {
  return plan.outcomes.map((outcome, i): CreateMessageResult => {
    if (outcome.kind === "created") {
      return { message: records[i]!.message, deliveries: records[i]!.deliveries, created: true };
    }
    const first = outcome.kind === "duplicate" ? records[outcome.of]! : stored(outcome.messageId);
    const { message, deliveries } = structuredClone(first);
    return { message, deliveries, created: false };
  });
}
