// Exactly-once delivery with real Redis: the 50 requests are spread over two receivers, each
// with its own connection, as two processes behind a load balancer would be.
import { randomUUID } from "node:crypto";
import { createRedisDedupeStore } from "@heraldjs/redis";
import { Redis } from "ioredis";
import { afterAll, describe } from "vitest";
import { testExactlyOnce } from "../contracts/exactlyOnce.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("redis");
const keyPrefix = `herald-test:exactly-once:${randomUUID()}:`;

describe.skipIf(!available)("redis", () => {
  afterAll(async () => {
    const admin = new Redis(serviceUrl("redis"));
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  testExactlyOnce("redis store", (count) =>
    Array.from({ length: count }, () =>
      createRedisDedupeStore({ url: serviceUrl("redis"), keyPrefix }),
    ),
  );
});
