// `@heraldjs/core/events`: the event store's types, the memory event store and the forwarder
// (the SQLite and PostgreSQL event stores are in @heraldjs/sqlite and @heraldjs/postgres).
export * from "../bus/index.js";
export type * from "../model/eventRecords.js";
export { parseStreamName, type StreamName } from "../model/streamName.js";
export { createMemoryEventStore } from "../store/memory/eventStore.js";
export type { CheckpointStore, EventStore, EventStoreOptions } from "../store/ports.js";
export {
  createForwarder,
  type Forwarder,
  type ForwarderOptions,
  type ForwarderStatus,
  type ForwardResult,
} from "./forwarder.js";
