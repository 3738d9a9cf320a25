// The live streams' HTTP suite on a temporary SQLite file (a second connection writes as
// another process would).

import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import { streamRoutesSuite } from "./streamRoutesSuite.js";

streamRoutesSuite("SQLite", async (clock) => {
  const sqlite = migratedSqlite();
  const other = openSqlite(sqlite.path);
  return {
    store: createSqliteDeliveryStore(sqlite.db, { clock }),
    writer: createSqliteDeliveryStore(other, { clock }),
    tokenRows: async () => sqlite.db.prepare("SELECT * FROM stream_tokens").all(),
    async close() {
      other.close();
      sqlite.cleanup();
    },
  };
});
