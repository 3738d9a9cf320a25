// Group commit for ingestion (../../core/batcher.ts): requests that arrive while a transaction
// is being written wait and go together into the next one, so N concurrent webhooks cost one
// commit (one fsync on SQLite) instead of N.
import { createBatcher } from "@heraldjs/core/internal/core/batcher.js";
import type {
  CreateMessageInput,
  CreateMessageResult,
  CreateMessagesOptions,
} from "@heraldjs/core/internal/model/deliveryOperations.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import {
  coerceError,
  HeraldError,
  isHeraldError,
} from "@heraldjs/webhooks/internal/core/errors.js";

export interface GroupCommitOptions {
  store: Pick<DeliveryStore, "createMessages">;
  /** Most messages per transaction. Default 256. */
  maxBatch?: number;
  /** Transactions written at once (1 for SQLite's single writer). Default 1. */
  maxConcurrent?: number;
  /**
   * With maxConcurrent above 1: a transaction starts beside one being written only when this
   * many messages wait (BatcherOptions.overlapFrom). Default 1.
   */
  overlapFrom?: number;
  /** Extra wait before writing a batch that is not full, to gather more. Default 0. */
  maxWaitMs?: number;
  /** Called once per written batch (metrics). */
  onBatch?: (size: number, durationMs: number, failed: boolean) => void;
  /**
   * Turns a batch into store inputs just before it is written (e.g. the deliveries of each
   * message from one read of the endpoints), with the write's options. The first round may
   * route on cached endpoints (`cached: true`) if its options have the write check their version
   * (`endpointsVersion`); a round after a refusal (`endpoint.not_found`,
   * `endpoint.version_changed`) is asked for fresh ones. Default: the inputs as submitted.
   */
  prepare?: (
    inputs: readonly CreateMessageInput[],
    round: { cached: boolean },
  ) => Promise<PreparedBatch>;
  /**
   * A submitter stops waiting after this long (the request deadline): its promise rejects with
   * store.unavailable. A message still queued is then dropped, never written; one whose batch is
   * being written may still be committed — its dedupe key with it, so a retry is answered as a
   * duplicate. Default: wait as long as the store takes.
   */
  giveUpAfterMs?: number;
}

/** A batch as the store is to write it. */
export interface PreparedBatch {
  inputs: CreateMessageInput[];
  options?: CreateMessagesOptions;
}

export interface GroupCommitter {
  /** Resolves once the message is committed (or found to be a duplicate); rejects as the store did. */
  submit(input: CreateMessageInput): Promise<CreateMessageResult>;
  /** Waits for every submitted message to be settled. */
  drain(): Promise<void>;
  readonly pending: number;
}

const PREPARE_ROUNDS = 3;

/** Refusals that mean the batch was routed on endpoints that changed: route it again. */
const REROUTE = ["endpoint.not_found", "endpoint.version_changed"] as const;

export function createGroupCommitter(options: GroupCommitOptions): GroupCommitter {
  const { store, giveUpAfterMs } = options;
  const prepare =
    options.prepare ?? (async (inputs): Promise<PreparedBatch> => ({ inputs: [...inputs] }));
  return createBatcher<CreateMessageInput, CreateMessageResult>({
    async write(inputs) {
      try {
        // An endpoint deleted between `prepare` and the write, or endpoints changed since the
        // cached routing, make the store refuse the batch (nothing stored); preparing again
        // reads the catalogue as it is now.
        for (let round = 1; ; round++) {
          try {
            const prepared = await prepare(inputs, { cached: round === 1 });
            const results = await store.createMessages(prepared.inputs, prepared.options);
            return results.map((value) => ({ ok: true, value }));
          } catch (error) {
            const reroute = REROUTE.some((code) => isHeraldError(error, code));
            if (round >= PREPARE_ROUNDS || !reroute) throw error;
          }
        }
      } catch (error) {
        throw coerceError(error);
      }
    },
    // One bad input must not fail the others: each is written on its own.
    retryAlone: (error) => !isHeraldError(error, "store.unavailable"),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
    ...(options.maxConcurrent === undefined ? {} : { maxConcurrent: options.maxConcurrent }),
    ...(options.overlapFrom === undefined ? {} : { overlapFrom: options.overlapFrom }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    ...(options.onBatch === undefined ? {} : { onBatch: options.onBatch }),
    ...(giveUpAfterMs === undefined
      ? {}
      : {
          giveUp: {
            afterMs: giveUpAfterMs,
            error: () =>
              new HeraldError(
                "store.unavailable",
                `The store did not commit within ${giveUpAfterMs} ms; try again later`,
              ),
          },
        }),
  });
}
