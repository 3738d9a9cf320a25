// The delivery rows this store instance leased, as it last saw them (the claim's RETURNING, then
// each lease-guarded write it made). A guarded write computes its change from this record and
// writes it back only if the row still equals it, in the same statement as the lease check
// (deliveryLease.ts): one round trip instead of locking and reading the row first. A stale or
// missing record costs nothing but the slow path (lock, read, check); it is never trusted.
import type { DeliveryRecord } from "@heraldjs/core/internal/store/deliveryPorts.js";

/** More leases than any worker holds at once; the oldest are forgotten beyond it. */
const MAX_ENTRIES = 20_000;

export interface LeaseCache {
  get(id: string): DeliveryRecord | undefined;
  /** Remembers a leased row; forgets the row once it is no longer `delivering`. */
  set(delivery: DeliveryRecord): void;
  delete(id: string): void;
}

export function createLeaseCache(maxEntries = MAX_ENTRIES): LeaseCache {
  const rows = new Map<string, DeliveryRecord>();
  return {
    get: (id) => rows.get(id),
    set(delivery) {
      rows.delete(delivery.id);
      if (delivery.status !== "delivering") return;
      rows.set(delivery.id, delivery);
      if (rows.size > maxEntries) rows.delete(rows.keys().next().value as string);
    },
    delete(id) {
      rows.delete(id);
    },
  };
}
