// The lease-guarded worker methods of the SQL adapters, written once over each adapter's
// batch-shaped write (lock the deliveries, check each lease, log the attempts, write back the
// changes, all in one transaction), so the two backends cannot disagree on what a method
// changes; the writes asked for together are batched by the shared group commit.

import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { type BatcherOptions, createBatcher, type Settled } from "../../core/batcher.js";
import { isoTime } from "../../core/isoTime.js";
import { positiveInteger } from "../../model/check.js";
import {
  completed,
  deadLettered,
  deliveryNotFound,
  leaseExtended,
  released,
  retryScheduled,
} from "../../model/lifecycle.js";
import { isoNow, nowMs, toIso } from "../../model/time.js";
import type {
  AttemptInput,
  AttemptRecord,
  DeliveryRecord,
  DeliveryTransitions,
  TimeInput,
} from "../deliveryPorts.js";

export interface GuardedResult {
  delivery: DeliveryRecord;
  /** Set when an attempt was logged. */
  attempt?: AttemptRecord;
  /** The endpoint's failure run after the logged attempt. */
  health?: { consecutiveFailures: number; failingSince: string | null };
}

/**
 * Throws `delivery.not_found` / `delivery.lease_lost` unless `owner` holds a live lease at `now`;
 * else logs `attempt` (when given), applies `change` and stores the delivery it returns.
 */
export type Guarded = (
  deliveryId: string,
  owner: string,
  now: TimeInput | undefined,
  change: (delivery: DeliveryRecord, nowIso: string) => DeliveryRecord,
  attempt?: AttemptInput,
) => Promise<GuardedResult>;

/** One lease-guarded write as an adapter's batch method takes it. */
export interface GuardedWrite {
  deliveryId: string;
  owner: string;
  nowIso: string;
  change: (delivery: DeliveryRecord, nowIso: string) => DeliveryRecord;
  attempt: AttemptInput | undefined;
}

/**
 * Writes a batch of lease-guarded writes in one transaction (or as few as it must): one outcome
 * per write, in order; a write whose lease is lost fails alone.
 */
export type ApplyGuardedWrites = (
  writes: readonly GuardedWrite[],
) => Promise<readonly Settled<GuardedResult>[]> | readonly Settled<GuardedResult>[];

/**
 * `guarded` over an adapter's batch-shaped write: the writes asked for in one turn of the event
 * loop (a worker's sends finish in bursts) share one transaction, each answered after its
 * commit: the same durability as one transaction each, for one commit per burst.
 */
export function batchedGuarded(
  apply: ApplyGuardedWrites,
  clock: Clock,
  scheduling: Omit<BatcherOptions<GuardedWrite, GuardedResult>, "write">,
): Guarded {
  const batcher = createBatcher<GuardedWrite, GuardedResult>({ ...scheduling, write: apply });
  return async (deliveryId, owner, now, change, attempt) => {
    const nowIso = isoNow(clock, now);
    if (typeof deliveryId !== "string") throw deliveryNotFound(deliveryId);
    return batcher.submit({ deliveryId, owner, nowIso, change, attempt });
  };
}

/** Every transition but replay and recovery, which need no lease. */
type LeaseGuardedMethods = Omit<DeliveryTransitions, "replayDelivery" | "recoverEndpoint">;

export function leaseGuardedMethods(guarded: Guarded, clock: Clock): LeaseGuardedMethods {
  const nextIso = (value: TimeInput) => toIso(value, "nextAttemptAt", "delivery.invalid");
  return {
    async extendLease({ deliveryId, owner, now, leaseMs }) {
      const until = nowMs(clock, now) + positiveInteger(leaseMs, "leaseMs", "delivery.invalid");
      const untilIso = isoTime(until);
      return (await guarded(deliveryId, owner, now, (d, n) => leaseExtended(d, untilIso, n)))
        .delivery;
    },
    async recordAttempt({ deliveryId, owner, now, attempt }) {
      const result = await guarded(deliveryId, owner, now, (d) => d, attempt);
      return {
        attempt: result.attempt!,
        delivery: result.delivery,
        endpointHealth: result.health!,
      };
    },
    async completeDelivery({ deliveryId, owner, now, attempt }) {
      return (await guarded(deliveryId, owner, now, completed, attempt)).delivery;
    },
    async scheduleRetry({ deliveryId, owner, now, attempt, nextAttemptAt }) {
      const next = nextIso(nextAttemptAt);
      return (await guarded(deliveryId, owner, now, (d, n) => retryScheduled(d, next, n), attempt))
        .delivery;
    },
    async deadLetter({ deliveryId, owner, now, attempt, reason }) {
      return (await guarded(deliveryId, owner, now, (d, n) => deadLettered(d, reason, n), attempt))
        .delivery;
    },
    async releaseLease({ deliveryId, owner, now, nextAttemptAt }) {
      const next = nextAttemptAt === undefined ? undefined : nextIso(nextAttemptAt);
      return (await guarded(deliveryId, owner, now, (d, n) => released(d, next ?? n, n))).delivery;
    },
  };
}
