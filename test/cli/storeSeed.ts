// Seeds a delivery store for the CLI's store-command tests: endpoints, messages, and deliveries
// driven to a status through claims, as a worker would drive them.

import type {
  AttemptInput,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
} from "../../packages/core/src/store/deliveryPorts.js";
import type { ManualClock } from "../../packages/webhooks/src/core/clock.js";

export const OWNER = "seed-worker";
const LEASE_MS = 600_000;

export function failedAttempt(clock: ManualClock): AttemptInput {
  return {
    startedAt: clock.now(),
    durationMs: 12,
    succeeded: false,
    statusCode: 503,
    error: "HTTP 503 Service Unavailable",
  };
}

export type SeedStatus = Exclude<DeliveryStatus, "cancelled">;

/**
 * `count` messages with one delivery each to `endpointId`, 1 s apart, driven to `status`
 * (`delivering` keeps a live lease: replay refuses it).
 */
export async function seedDeliveries(
  store: DeliveryStore,
  clock: ManualClock,
  endpointId: string,
  count: number,
  status: SeedStatus,
): Promise<DeliveryRecord[]> {
  const ids = new Set<string>();
  for (let i = 0; i < count; i++) {
    const { deliveries } = await store.createMessage({
      message: { type: "order.created.v1", payload: { n: i }, tenant: "acme" },
      deliveries: [{ endpointId, maxAttempts: 2 }],
    });
    for (const delivery of deliveries) ids.add(delivery.id);
    clock.advance(1_000);
  }
  if (status !== "pending") {
    const claimed = await store.claimDueDeliveries({
      owner: OWNER,
      limit: 1000,
      leaseMs: LEASE_MS,
    });
    for (const { delivery } of claimed) {
      const ref = { deliveryId: delivery.id, owner: OWNER };
      if (!ids.has(delivery.id)) {
        await store.releaseLease(ref);
        continue;
      }
      if (status === "delivering") continue;
      if (status === "delivered") {
        await store.completeDelivery({
          ...ref,
          attempt: { ...failedAttempt(clock), succeeded: true, statusCode: 200, error: null },
        });
      } else if (status === "retrying") {
        await store.scheduleRetry({
          ...ref,
          attempt: failedAttempt(clock),
          nextAttemptAt: clock.now() + 3_600_000,
        });
      } else {
        await store.deadLetter({ ...ref, attempt: failedAttempt(clock) });
      }
    }
  }
  const out: DeliveryRecord[] = [];
  for (const id of ids) {
    const found = await store.getDelivery(id);
    if (found !== undefined) out.push(found.delivery);
  }
  return out;
}
