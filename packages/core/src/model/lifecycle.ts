// The delivery lifecycle as pure functions over records: every adapter locks the row, checks the
// lease here and writes back what these return, so the rules cannot drift between backends.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { positiveInteger, text } from "./check.js";
import { MAX_TEXT_LENGTH, OPEN_DELIVERY_STATUSES } from "./constants.js";
import type { DeliveryRecord, EndpointRecord } from "./deliveryRecords.js";

export function deliveryNotFound(id: string): HeraldError {
  return new HeraldError("delivery.not_found", `No delivery ${JSON.stringify(id)}`, {
    details: { deliveryId: id },
  });
}

export function endpointNotFound(id: string): HeraldError {
  return new HeraldError("endpoint.not_found", `No endpoint ${JSON.stringify(id)}`, {
    details: { endpointId: id },
  });
}

/** A taken explicit endpoint id. */
export function endpointAlreadyExists(id: string): HeraldError {
  return new HeraldError("endpoint.already_exists", `Endpoint ${id} already exists`, {
    details: { endpointId: id },
  });
}

export function holdsLease(delivery: DeliveryRecord, owner: string, nowIso: string): boolean {
  return (
    delivery.status === "delivering" &&
    delivery.leaseOwner === owner &&
    delivery.leaseExpiresAt !== null &&
    delivery.leaseExpiresAt > nowIso
  );
}

/**
 * Throws `delivery.not_found`, or `delivery.lease_lost` when `owner` no longer holds a live
 * lease (it expired, or the delivery was reclaimed, finished or replayed meanwhile).
 */
export function assertLease(
  delivery: DeliveryRecord | undefined,
  deliveryId: string,
  owner: string,
  nowIso: string,
): asserts delivery is DeliveryRecord {
  if (delivery === undefined) throw deliveryNotFound(deliveryId);
  if (!holdsLease(delivery, owner, nowIso)) {
    throw new HeraldError(
      "delivery.lease_lost",
      `Delivery ${deliveryId} is no longer leased to ${JSON.stringify(owner)}`,
      {
        details: {
          deliveryId,
          owner,
          status: delivery.status,
          leaseOwner: delivery.leaseOwner,
          leaseExpiresAt: delivery.leaseExpiresAt,
        },
      },
    );
  }
}

/** Checks a worker's claim options; the lease end as an ISO string. */
export function claimSettings(
  options: { owner: unknown; limit: unknown; leaseMs: unknown },
  nowMs: number,
): { owner: string; limit: number; leaseUntilIso: string } {
  const code = "delivery.invalid";
  return {
    owner: text(options.owner, "owner", code),
    limit: positiveInteger(options.limit, "limit", code),
    leaseUntilIso: new Date(
      nowMs + positiveInteger(options.leaseMs, "leaseMs", code),
    ).toISOString(),
  };
}

/** Due now: pending/retrying whose time came, or delivering whose lease ran out. */
export function isDue(delivery: DeliveryRecord, nowIso: string): boolean {
  return (
    OPEN_DELIVERY_STATUSES.includes(delivery.status) &&
    delivery.nextAttemptAt !== null &&
    delivery.nextAttemptAt <= nowIso
  );
}

/**
 * Leased to `owner`. While delivering, `nextAttemptAt` is the lease end: the time the delivery
 * is due again if its worker never finishes, so one index serves both kinds of due deliveries.
 */
export function claimed(
  delivery: DeliveryRecord,
  owner: string,
  leaseUntilIso: string,
  nowIso: string,
): DeliveryRecord {
  return {
    ...delivery,
    status: "delivering",
    leaseOwner: owner,
    leaseExpiresAt: leaseUntilIso,
    nextAttemptAt: leaseUntilIso,
    updatedAt: nowIso,
  };
}

export function leaseExtended(
  delivery: DeliveryRecord,
  leaseUntilIso: string,
  nowIso: string,
): DeliveryRecord {
  return {
    ...delivery,
    leaseExpiresAt: leaseUntilIso,
    nextAttemptAt: leaseUntilIso,
    updatedAt: nowIso,
  };
}

/** One more attempt counted and its result remembered; the status is unchanged. */
export function attempted(
  delivery: DeliveryRecord,
  attempt: { startedAt: string; statusCode: number | null; error: string | null },
  nowIso: string,
): DeliveryRecord {
  return {
    ...delivery,
    attempts: delivery.attempts + 1,
    lastAttemptAt: attempt.startedAt,
    lastStatusCode: attempt.statusCode,
    lastError: attempt.error,
    updatedAt: nowIso,
  };
}

const unleased = { leaseOwner: null, leaseExpiresAt: null } as const;

export function completed(delivery: DeliveryRecord, nowIso: string): DeliveryRecord {
  return { ...delivery, ...unleased, status: "delivered", nextAttemptAt: null, updatedAt: nowIso };
}

/** Unleased and due again at `nextAttemptIso` with `status`. */
function requeued(
  delivery: DeliveryRecord,
  status: "pending" | "retrying",
  nextAttemptIso: string,
  nowIso: string,
): DeliveryRecord {
  return { ...delivery, ...unleased, status, nextAttemptAt: nextAttemptIso, updatedAt: nowIso };
}

export function retryScheduled(
  delivery: DeliveryRecord,
  nextAttemptIso: string,
  nowIso: string,
): DeliveryRecord {
  return requeued(delivery, "retrying", nextAttemptIso, nowIso);
}

export function deadLettered(
  delivery: DeliveryRecord,
  reason: unknown,
  nowIso: string,
): DeliveryRecord {
  const lastError =
    reason === undefined || reason === null
      ? delivery.lastError
      : text(reason, "reason", "delivery.invalid", MAX_TEXT_LENGTH);
  return {
    ...delivery,
    ...unleased,
    status: "dead_lettered",
    nextAttemptAt: null,
    lastError,
    updatedAt: nowIso,
  };
}

/** Handed back unattempted: `pending` if it never had an attempt, else `retrying`. */
export function released(
  delivery: DeliveryRecord,
  nextAttemptIso: string,
  nowIso: string,
): DeliveryRecord {
  const status = delivery.attempts === 0 ? "pending" : "retrying";
  return requeued(delivery, status, nextAttemptIso, nowIso);
}

/** Back to the start, due now; refused while a worker holds a live lease. */
export function replayed(delivery: DeliveryRecord, nowIso: string): DeliveryRecord {
  if (
    delivery.status === "delivering" &&
    delivery.leaseExpiresAt !== null &&
    delivery.leaseExpiresAt > nowIso
  ) {
    throw new HeraldError(
      "delivery.in_progress",
      `Delivery ${delivery.id} is being attempted right now; replay it once the attempt ends`,
      { details: { deliveryId: delivery.id, leaseExpiresAt: delivery.leaseExpiresAt } },
    );
  }
  return {
    ...delivery,
    ...unleased,
    status: "pending",
    attempts: 0,
    nextAttemptAt: nowIso,
    lastError: null,
    lastStatusCode: null,
    updatedAt: nowIso,
  };
}

/** The endpoint's failure run after an attempt: reset by a success, extended by a failure. */
export function healthAfter(
  endpoint: Pick<EndpointRecord, "consecutiveFailures" | "failingSince">,
  succeeded: boolean,
  startedAtIso: string,
): { consecutiveFailures: number; failingSince: string | null } {
  return succeeded
    ? { consecutiveFailures: 0, failingSince: null }
    : {
        consecutiveFailures: endpoint.consecutiveFailures + 1,
        failingSince: endpoint.failingSince ?? startedAtIso,
      };
}
