// Redis DedupeStore (ioredis): one key per delivery holding `processing:<token>` under a lease
// or `done` under a ttl, both as Redis expiries, so nothing needs sweeping. Claim is
// `SET NX PX`; complete and release are Lua scripts that compare the token atomically.
import { createHash, randomUUID } from "node:crypto";
import type { DedupeClaim, DedupeStore } from "@heraldjs/core/internal/store/ports.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Redis } from "ioredis";

export type RedisDedupeStoreOptions = {
  /** Prepended to every key; default `herald:dedupe:`. */
  keyPrefix?: string;
} & (
  | {
      /** A client you own and configure: the store never closes it. */
      client: Redis;
      url?: undefined;
    }
  | {
      /** `redis://…`; ioredis is loaded on first use, and the store closes the client it made. */
      url: string;
      client?: undefined;
    }
);

const PROCESSING = "processing:";
const DONE = "done";

// KEYS[1] = key, ARGV[1] = expected `processing:<token>`, ARGV[2] = ttl in ms.
const COMPLETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[2])
  return 1
end
return 0`;

// KEYS[1] = key, ARGV[1] = expected `processing:<token>`.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const SCRIPTS = {
  complete: { source: COMPLETE, sha: sha1(COMPLETE) },
  release: { source: RELEASE, sha: sha1(RELEASE) },
};

/** Redis keys expire in whole milliseconds and PX 0 is an error. */
const toPx = (ms: number) => Math.max(1, Math.ceil(ms));

export function createRedisDedupeStore(options: RedisDedupeStoreOptions): DedupeStore {
  const { keyPrefix = "herald:dedupe:" } = options;
  const ownsClient = options.client === undefined;
  if (options.client === undefined && typeof options.url !== "string") {
    throw new HeraldError("config.invalid", "createRedisDedupeStore needs a `client` or a `url`");
  }
  let clientPromise: Promise<Redis> | undefined =
    options.client === undefined ? undefined : Promise.resolve(options.client);

  let closed = false;

  function client(): Promise<Redis> {
    if (closed) {
      return Promise.reject(new HeraldError("store.unavailable", "The dedupe store is closed"));
    }
    clientPromise ??= (async () => {
      // Loaded lazily so applications that never configure Redis never load ioredis.
      const { Redis } = await import("ioredis");
      const created = new Redis(options.url as string, {
        // Fail a command quickly while Redis is down (the receiver answers 503) instead of
        // queueing it through many reconnect attempts.
        maxRetriesPerRequest: 1,
      });
      // Connection errors surface as rejected commands; without a listener ioredis logs
      // every reconnect attempt as an unhandled error event.
      created.on("error", () => {});
      return created;
    })();
    return clientPromise;
  }

  async function script(
    redis: Redis,
    name: keyof typeof SCRIPTS,
    key: string,
    ...args: (string | number)[]
  ): Promise<unknown> {
    const { source, sha } = SCRIPTS[name];
    try {
      return await redis.evalsha(sha, 1, key, ...args);
    } catch (error) {
      // The script cache is empty after a Redis restart or on a fresh server.
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(source, 1, key, ...args);
    }
  }

  return {
    async claim(key, leaseMs): Promise<DedupeClaim> {
      const redis = await client();
      const fullKey = keyPrefix + key;
      const token = randomUUID();
      // The key can expire between a refused SET and the GET; then it is free: claim again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const set = await redis.set(fullKey, PROCESSING + token, "PX", toPx(leaseMs), "NX");
        if (set === "OK") return { claimed: true, token };
        const value = await redis.get(fullKey);
        if (value !== null) {
          return { claimed: false, state: value === DONE ? "done" : "processing" };
        }
      }
      throw new HeraldError("store.unavailable", `Could not claim dedupe key ${key}`);
    },

    async complete(key, token, ttlMs) {
      const redis = await client();
      return (
        (await script(redis, "complete", keyPrefix + key, PROCESSING + token, toPx(ttlMs))) === 1
      );
    },

    async release(key, token) {
      const redis = await client();
      await script(redis, "release", keyPrefix + key, PROCESSING + token);
    },

    async close() {
      closed = true;
      if (!ownsClient || clientPromise === undefined) return;
      const redis = await clientPromise;
      clientPromise = undefined;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
