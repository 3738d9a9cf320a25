// The answer of deliveryStats, built the same way by every adapter from what it counted.

import { QUEUED_DELIVERY_STATUSES } from "./constants.js";
import type { DeliveryStats, QueuedDeliveryStatus } from "./deliveryOperations.js";

/** Every queued status at 0, for the adapter to fill in. */
export function emptyDepth(): Record<QueuedDeliveryStatus, number> {
  return Object.fromEntries(QUEUED_DELIVERY_STATUSES.map((s) => [s, 0])) as Record<
    QueuedDeliveryStatus,
    number
  >;
}

/** The stats at `nowMs`, given the depth and the earliest due time (ms; null when none). */
export function queueStats(
  depth: Record<QueuedDeliveryStatus, number>,
  oldestDueMs: number | null,
  nowMs: number,
): DeliveryStats {
  return {
    depth,
    oldestDueAt: oldestDueMs === null ? null : new Date(oldestDueMs).toISOString(),
    oldestDueAgeMs: oldestDueMs === null ? null : nowMs - oldestDueMs,
  };
}
