// The transport contract on Redis Streams: a real Redis, keys of this file's own (deleted after),
// and a holding TCP proxy of its own for a Redis that does not answer.
import { describe } from "vitest";
import { createRedisStreamsTransport } from "../../packages/redis/src/delivery/transports/redisStreams.js";
import { type TransportHarness, transportContract } from "../contracts/transport.js";
import { serviceAvailable } from "../helpers/services.js";
import { brokerHarness } from "./contractHarnesses.js";
import { createRedisTestStream } from "./redisStreamsTestStream.js";

const available = await serviceAvailable("redis");

// Skipped only when Redis is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("Redis Streams transport contract", () => {
  transportContract(
    "redis-streams",
    async (): Promise<TransportHarness> => {
      const t = await createRedisTestStream("contract");
      // Holds every byte until released: Redis never sees the connection, so no reply comes.
      const held = await t.proxy(true);
      return brokerHarness(createRedisStreamsTransport({ ssrfAllow: ["127.0.0.0/8"] }), t, held, {
        succeed: t.target(),
        hang: t.target(t.stream, t.via(held)),
        // The key holds a string: Redis answers WRONGTYPE until someone fixes the key.
        transient: t.target(t.wrongType),
      });
    },
    { permanent: true },
  );
});
