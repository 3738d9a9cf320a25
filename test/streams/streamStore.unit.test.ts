// The StreamStore suite on the memory store and on a temporary SQLite file.
import { LOCAL_DELIVERY_STORES } from "../helpers/localDeliveryStores.js";
import { streamStoreSuite } from "./streamStoreSuite.js";

for (const [name, open] of LOCAL_DELIVERY_STORES) {
  streamStoreSuite(name, (clock) => {
    const local = open(clock);
    return { store: local.store, close: () => local.close() };
  });
}
