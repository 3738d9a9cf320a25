// `@heraldjs/redis`: the dedupe store on Redis (ioredis), for receivers that run on many hosts.
export {
  createRedisDedupeStore,
  type RedisDedupeStoreOptions,
} from "./store/redis/dedupeStore.js";
