// The Redis DedupeStore against a real Redis: the shared contract, ownership of the client,
// and the failure a receiver turns into 503.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisDedupeStore } from "../../packages/redis/src/store/redis/dedupeStore.js";
import { testDedupeStore } from "../contracts/dedupeStore.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("redis");
const keyPrefix = `herald-test:store:${randomUUID()}:`;

describe.skipIf(!available)("redis DedupeStore", () => {
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(serviceUrl("redis"));
  });

  afterAll(async () => {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  describe("with a client the test owns", () => {
    testDedupeStore("redis (client)", () => createRedisDedupeStore({ client: admin, keyPrefix }));
  });

  describe("with a url (ioredis loaded lazily)", () => {
    testDedupeStore("redis (url)", () =>
      createRedisDedupeStore({ url: serviceUrl("redis"), keyPrefix }),
    );
  });

  it("stores keys under the prefix, and leaves a client it did not create open", async () => {
    const store = createRedisDedupeStore({ client: admin, keyPrefix });
    const claim = await store.claim("owned", 60_000);
    expect(claim.claimed).toBe(true);
    expect(await admin.exists(`${keyPrefix}owned`)).toBe(1);
    await store.close?.();
    expect(await admin.ping()).toBe("PONG");
  });

  it("rejects every call once closed", async () => {
    const store = createRedisDedupeStore({ url: serviceUrl("redis"), keyPrefix });
    await store.claim("closed", 60_000);
    await store.close?.();
    await expect(store.claim("closed-2", 60_000)).rejects.toMatchObject({
      code: "store.unavailable",
    });
  });

  it("rejects a claim when Redis cannot be reached", async () => {
    const store = createRedisDedupeStore({ url: "redis://127.0.0.1:1", keyPrefix });
    await expect(store.claim("unreachable", 60_000)).rejects.toBeInstanceOf(Error);
    await store.close?.();
  });

  it("needs a client or a url", () => {
    expect(() => createRedisDedupeStore({} as never)).toThrow(/client.*url/);
  });
});
