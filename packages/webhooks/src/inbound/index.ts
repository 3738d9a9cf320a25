// Inbound webhooks: the receiver, its adapters, and the dedupe stores it claims deliveries in.

export { DEFAULT_MAX_BODY_BYTES } from "../model/receiveDefaults.js";
export type { DedupeClaim, DedupeStore } from "../store/dedupePort.js";
export {
  createMemoryDedupeStore,
  type MemoryDedupeStoreOptions,
} from "../store/memory/dedupeStore.js";
export {
  type ExpressLikeNext,
  type ExpressLikeRequest,
  type ExpressReceiverOptions,
  type ExpressWebhookMiddleware,
  expressReceiver,
} from "./adapters/express.js";
export { type FastifyReceiverOptions, fastifyReceiver } from "./adapters/fastify.js";
export { type FetchWebhookHandler, toFetchHandler } from "./adapters/fetch.js";
export {
  type NodeHandlerOptions,
  type NodeWebhookHandler,
  toNodeHandler,
} from "./adapters/node.js";
export {
  createReceiver,
  DEFAULT_DEDUPE_TTL_SECONDS,
  DEFAULT_PROCESSING_TIMEOUT_SECONDS,
} from "./receiver.js";
export type * from "./types.js";
