// The lease-guarded worker methods of the SQL adapters, written once over each adapter's
// `guarded` (lock the delivery, check the lease, log the attempt, write back the change, all in
// one transaction), so the two backends cannot disagree on what a method changes.
import type { Clock } from "../../core/clock.js";
import { isoTime } from "../../core/isoTime.js";
import { positiveInteger } from "../../model/check.js";
import {
  completed,
  deadLettered,
  leaseExtended,
  released,
  retryScheduled,
} from "../../model/lifecycle.js";
import { nowMs, toIso } from "../../model/time.js";
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
