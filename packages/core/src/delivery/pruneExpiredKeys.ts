// Housekeeping shared by `herald serve` and `herald worker`: expired inbound dedupe keys are
// deleted every minute, in small transactions, so one run never holds the writer for long.
import { DEFAULT_PRUNE_LIMIT } from "../model/inboundKeys.js";
import type { DeliveryStore } from "../store/deliveryPorts.js";

export const PRUNE_INTERVAL_MS = 60 * 1000;
/** At most this many batches per run. */
const PRUNE_ROUNDS = 100;

/** Deletes expired inbound dedupe keys in batches until none are left; resolves to how many. */
export async function pruneExpiredKeys(store: DeliveryStore): Promise<number> {
  let total = 0;
  for (let round = 0; round < PRUNE_ROUNDS; round++) {
    const deleted = await store.pruneInboundKeys({ limit: DEFAULT_PRUNE_LIMIT });
    total += deleted;
    if (deleted < DEFAULT_PRUNE_LIMIT) break;
  }
  return total;
}
