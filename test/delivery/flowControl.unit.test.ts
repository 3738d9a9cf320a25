// Flow control (rate limit, ordered FIFO under 8 workers) on one SQLite file, each worker with
// a connection of its own.
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import { testFlowControl } from "./flowControlSuite.js";

testFlowControl("sqlite", async () => {
  const file = migratedSqlite();
  const connections: SqliteDatabase[] = [];
  return {
    open() {
      const db = openSqlite(file.path);
      connections.push(db);
      return createSqliteDeliveryStore(db);
    },
    async close() {
      for (const db of connections) db.close();
      file.cleanup();
    },
  };
});
