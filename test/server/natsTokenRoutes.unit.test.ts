// `/v1/nats-tokens` on a temporary SQLite file (a second connection reads as the auth callout's
// process would).
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import { natsTokenRoutesSuite } from "./natsTokenRoutesSuite.js";

natsTokenRoutesSuite("SQLite", async (clock) => {
  const sqlite = migratedSqlite();
  const other = openSqlite(sqlite.path);
  return {
    store: createSqliteDeliveryStore(sqlite.db, { clock }),
    other: createSqliteDeliveryStore(other, { clock }),
    tokenRows: async () => sqlite.db.prepare("SELECT * FROM nats_tokens").all(),
    async close() {
      other.close();
      sqlite.cleanup();
    },
  };
});
