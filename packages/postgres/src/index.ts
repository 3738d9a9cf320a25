// `@heraldjs/postgres`: Herald's stores on PostgreSQL (pg): the event store (also inside the
// caller's own transaction), the dedupe store / inbox, the delivery store, and the migrations.
export {
  type AppendInTransactionOptions,
  appendInTransaction,
} from "./store/postgres/appendEvents.js";
export {
  createPgPool,
  type PgPool,
  type PgPoolOptions,
  withTransaction,
} from "./store/postgres/database.js";
export {
  createPostgresDedupeStore,
  type PostgresDedupeStoreOptions,
} from "./store/postgres/dedupeStore.js";
export { createPostgresDeliveryStore } from "./store/postgres/deliveryStore.js";
export { createPostgresEventStore } from "./store/postgres/eventStore.js";
export { migratePostgres, postgresMigrations } from "./store/postgres/migrate.js";
