// A closed catalogue at ingestion (herald.yaml `catalog: { closed: true }`): a webhook whose type
// the catalogue does not list is refused (400 event_type.unknown) before it is stored. A closed
// catalogue holds the declared types only, a short list that changes rarely, so each process
// keeps the list of names for `ttlMs` instead of reading the catalogue per webhook: a change
// through this process's API is seen at once (invalidate), one made elsewhere within `ttlMs`.
// An open catalogue has no gate: nothing is read, and the store records new types itself.

import { unknownEventType } from "@heraldjs/core/internal/model/catalogRecords.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";

export interface CatalogGate {
  /** Resolves when `type` is in the catalogue; rejects with event_type.unknown, or as the store. */
  admit(type: string): Promise<void>;
  /** Forget the list (an event type changed through this process). */
  invalidate(): void;
}

export interface CatalogGateOptions {
  /** Default 1000. */
  ttlMs?: number;
  now?: () => number;
}

export function createCatalogGate(
  store: Pick<DeliveryStore, "listEventTypes">,
  options: CatalogGateOptions = {},
): CatalogGate {
  const { ttlMs = 1000, now = () => performance.now() } = options;
  let names: Promise<ReadonlySet<string>> | undefined;
  let expiresAt = 0;

  function current(): Promise<ReadonlySet<string>> {
    if (names === undefined || expiresAt <= now()) {
      // Concurrent webhooks share one read; a failed read is not kept.
      const read = store.listEventTypes().then((types) => new Set(types.map((t) => t.name)));
      names = read;
      expiresAt = now() + ttlMs;
      read.catch(() => {
        if (names === read) names = undefined;
      });
    }
    return names;
  }

  return {
    async admit(type) {
      if (!(await current()).has(type)) throw unknownEventType(type);
    },
    invalidate() {
      names = undefined;
    },
  };
}
