// The delivery stores a unit test can open without a server: memory and a temporary SQLite
// file, each on the test's clock; `close` removes what the store left behind.
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import type { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { migratedSqlite } from "./sqlite.js";

export interface LocalDeliveryStore {
  store: DeliveryStore;
  close(): void;
}

export const LOCAL_DELIVERY_STORES: [string, (clock: ManualClock) => LocalDeliveryStore][] = [
  ["memory", (clock) => ({ store: createMemoryDeliveryStore({ clock }), close() {} })],
  [
    "sqlite",
    (clock) => {
      const { db, cleanup } = migratedSqlite();
      return { store: createSqliteDeliveryStore(db, { clock }), close: cleanup };
    },
  ],
];
