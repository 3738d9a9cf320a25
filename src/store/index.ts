// `herald/store`: the storage backends — databases, migrations, dedupe/inbox stores and the
// delivery-engine tables — for applications that assemble Herald themselves.

export { createInbox, type Inbox, inboxKey } from "../bus/inbox.js";
export {
  BACKENDS,
  type BackendProfile,
  type BackendRole,
  backendFor,
  type DedupeStoreOptions,
  type OpenDatabaseOptions,
} from "./backends.js";
export { createMemoryDedupeStore } from "./memory/dedupeStore.js";
export { createMemoryDeliveryStore } from "./memory/deliveryStore.js";
export type { Dialect, MigrationReport } from "./migrations.js";
export {
  type DatabaseTarget,
  DEFAULT_SQLITE_PATH,
  describeDatabase,
  migrateDatabase,
  type OpenedDatabase,
  openDatabase,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "./openDatabase.js";
export type * from "./ports.js";
export {
  createPgPool,
  type PgPool,
  type PgPoolOptions,
  withTransaction,
} from "./postgres/database.js";
export {
  createPostgresDedupeStore,
  type PostgresDedupeStoreOptions,
} from "./postgres/dedupeStore.js";
export { createPostgresDeliveryStore } from "./postgres/deliveryStore.js";
export { migratePostgres } from "./postgres/migrate.js";
export { createRedisDedupeStore } from "./redis/dedupeStore.js";
export {
  type OpenSqliteOptions,
  openSqlite,
  type SqliteDatabase,
  type SqliteDurability,
} from "./sqlite/database.js";
export { createSqliteDedupeStore, type SqliteDedupeStoreOptions } from "./sqlite/dedupeStore.js";
export { createSqliteDeliveryStore } from "./sqlite/deliveryStore.js";
export { migrateSqlite } from "./sqlite/migrate.js";
