// `herald/events`: the event store on memory, SQLite and PostgreSQL, and its types;
// appendInTransaction stores events within the caller's own PostgreSQL transaction.
export * from "../bus/index.js";
export type * from "../model/eventRecords.js";
export { parseStreamName, type StreamName } from "../model/streamName.js";
export { createMemoryEventStore } from "../store/memory/eventStore.js";
export type { CheckpointStore, EventStore, EventStoreOptions } from "../store/ports.js";
export {
  type AppendInTransactionOptions,
  appendInTransaction,
} from "../store/postgres/appendEvents.js";
export { createPostgresEventStore } from "../store/postgres/eventStore.js";
export { createSqliteEventStore } from "../store/sqlite/eventStore.js";
export {
  createForwarder,
  type Forwarder,
  type ForwarderOptions,
  type ForwarderStatus,
  type ForwardResult,
} from "./forwarder.js";
