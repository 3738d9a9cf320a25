// Where a message stands, from its deliveries: one status in the vocabulary of an ingestion
// service (queued, processing, retrying, delivered, dead_lettered) plus Herald's own
// (no_endpoints, cancelled), and the figures beside it. One rule, shown by GET /v1/messages/:id
// and `herald messages show`; docs/http-api.md#messages states it for users.
import type { DeliveryRecord, DeliveryStatus, MessageRecord } from "./deliveryRecords.js";

/**
 * A message's status, the first rule that applies:
 * `no_endpoints` when it has no delivery (no enabled endpoint matched);
 * `processing` while a worker attempts one of its deliveries (`delivering`);
 * `retrying` while one failed and waits for its next attempt;
 * `queued` while one waits for its first attempt (`pending`, also after a replay);
 * `dead_lettered` when one was dead-lettered (none still open);
 * `delivered` when one was delivered (the others, if any, cancelled);
 * `cancelled` when every delivery was cancelled.
 */
export const MESSAGE_STATUSES = [
  "queued",
  "processing",
  "retrying",
  "delivered",
  "dead_lettered",
  "no_endpoints",
  "cancelled",
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** The message status each open delivery status makes, by precedence. */
const OPEN: readonly [DeliveryStatus, MessageStatus][] = [
  ["delivering", "processing"],
  ["retrying", "retrying"],
  ["pending", "queued"],
];

export function messageStatus(
  deliveries: readonly Pick<DeliveryRecord, "status">[],
): MessageStatus {
  if (deliveries.length === 0) return "no_endpoints";
  const has = (status: DeliveryStatus) => deliveries.some((d) => d.status === status);
  for (const [delivery, message] of OPEN) if (has(delivery)) return message;
  if (has("dead_lettered")) return "dead_lettered";
  return has("delivered") ? "delivered" : "cancelled";
}

/** A message's status with the figures users ask about, summed up from its deliveries. */
export interface MessageProgress {
  status: MessageStatus;
  /** One sentence for people; its wording may change, `status` is the stable field. */
  description: string;
  /** The most attempts any delivery made (since its creation or last replay); 0 without any. */
  attempts: number;
  /** The most attempts any delivery may make; 0 without deliveries. */
  maxAttempts: number;
  /**
   * The error of the latest failed attempt that is still a delivery's last result (its
   * `lastError`, else `HTTP <status>`); null when every delivery's last attempt succeeded or
   * none was made.
   */
  lastError: string | null;
  /** The earliest time a queued or retrying delivery is due; null when none waits. */
  nextRetryAt: string | null;
  /** The latest change of the message or any of its deliveries. */
  updatedAt: string;
}

/** The last attempt's error when that attempt failed, else null. */
function failure(delivery: DeliveryRecord): string | null {
  if (delivery.lastError !== null) return delivery.lastError;
  // A success leaves the delivery `delivered`; any other status after an attempt means the
  // last one failed, possibly with only a status code to show for it.
  if (delivery.status === "delivered" || delivery.attempts === 0) return null;
  return delivery.lastStatusCode === null ? null : `HTTP ${delivery.lastStatusCode}`;
}

function latestFailure(deliveries: readonly DeliveryRecord[]): string | null {
  let found: string | null = null;
  let at = "";
  for (const delivery of deliveries) {
    const error = failure(delivery);
    const time = delivery.lastAttemptAt ?? delivery.updatedAt;
    if (error !== null && (found === null || time > at)) {
      found = error;
      at = time;
    }
  }
  return found;
}

function earliestDue(deliveries: readonly DeliveryRecord[]): string | null {
  let earliest: string | null = null;
  for (const { status, nextAttemptAt } of deliveries) {
    if ((status !== "pending" && status !== "retrying") || nextAttemptAt === null) continue;
    if (earliest === null || nextAttemptAt < earliest) earliest = nextAttemptAt;
  }
  return earliest;
}

function counts(deliveries: readonly DeliveryRecord[]): string {
  const by = new Map<DeliveryStatus, number>();
  for (const { status } of deliveries) by.set(status, (by.get(status) ?? 0) + 1);
  return [...by].map(([status, n]) => `${n} ${status}`).join(", ");
}

function describe(progress: Omit<MessageProgress, "description">, total: number): string {
  const { status, attempts, maxAttempts, nextRetryAt } = progress;
  const tries = (n: number) => `${n} attempt${n === 1 ? "" : "s"}`;
  // With several deliveries the figures are maxima over them: the sentence leaves them out.
  const one = total === 1;
  switch (status) {
    case "no_endpoints":
      return "No enabled endpoint matched the message's type when it was stored: nothing will be delivered.";
    case "queued":
      return `Queued: waiting for a worker to attempt it (due ${nextRetryAt}).`;
    case "processing":
      return "Processing: a worker is attempting it now.";
    case "retrying":
      return one
        ? `Retrying: ${tries(attempts)} of ${maxAttempts} failed; the next is due ${nextRetryAt}.`
        : `Retrying: an attempt failed; the next is due ${nextRetryAt}.`;
    case "delivered":
      return one ? `Delivered after ${tries(attempts)}.` : "Delivered.";
    case "dead_lettered":
      return `Dead-lettered${one ? ` after ${tries(attempts)}` : ""}: it will not be retried unless its delivery is replayed.`;
    case "cancelled":
      return "Cancelled: it will not be attempted.";
  }
}

export function messageProgress(
  message: Pick<MessageRecord, "createdAt">,
  deliveries: readonly DeliveryRecord[],
): MessageProgress {
  let updatedAt = message.createdAt;
  let attempts = 0;
  let maxAttempts = 0;
  for (const delivery of deliveries) {
    if (delivery.updatedAt > updatedAt) updatedAt = delivery.updatedAt;
    attempts = Math.max(attempts, delivery.attempts);
    maxAttempts = Math.max(maxAttempts, delivery.maxAttempts);
  }
  const progress = {
    status: messageStatus(deliveries),
    attempts,
    maxAttempts,
    lastError: latestFailure(deliveries),
    nextRetryAt: earliestDue(deliveries),
    updatedAt,
  };
  const sentence = describe(progress, deliveries.length);
  const description =
    deliveries.length > 1 ? `${sentence} Deliveries: ${counts(deliveries)}.` : sentence;
  return { ...progress, description };
}
