// `@heraldjs/core/store`: the storage ports every backend implements, the memory stores and the
// inbox (the SQLite, PostgreSQL and Redis adapters are packages of their own).

export { createMemoryDedupeStore } from "@heraldjs/webhooks/internal/store/memory/dedupeStore.js";
export { createInbox, type Inbox, inboxKey } from "../bus/inbox.js";
export { createMemoryDeliveryStore } from "./memory/deliveryStore.js";
export { createMemoryEventStore } from "./memory/eventStore.js";
export type { Dialect, Migration, MigrationReport } from "./migrations.js";
export type * from "./ports.js";
