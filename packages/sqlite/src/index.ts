// `@heraldjs/sqlite`: Herald's stores on SQLite (better-sqlite3): the event store, the dedupe
// store / inbox, the delivery store, and the migrations they need.
export {
  type OpenSqliteOptions,
  openSqlite,
  type SqliteDatabase,
  type SqliteDurability,
} from "./store/sqlite/database.js";
export {
  createSqliteDedupeStore,
  type SqliteDedupeStoreOptions,
} from "./store/sqlite/dedupeStore.js";
export { createSqliteDeliveryStore } from "./store/sqlite/deliveryStore.js";
export { createSqliteEventStore } from "./store/sqlite/eventStore.js";
export { migrateSqlite, sqliteMigrations } from "./store/sqlite/migrate.js";
