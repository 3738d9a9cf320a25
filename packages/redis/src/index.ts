// `@heraldjs/redis`: the dedupe store on Redis (ioredis), for receivers that run on many hosts,
// and the delivery transport that appends signed webhooks to a Redis stream.

export {
  checkRedisStreamsTarget,
  createRedisStreamsTransport,
  type RedisStreamsTransportOptions,
} from "./delivery/transports/redisStreams.js";
export {
  createRedisDedupeStore,
  type RedisDedupeStoreOptions,
} from "./store/redis/dedupeStore.js";
