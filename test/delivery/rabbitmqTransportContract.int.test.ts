// The transport contract on RabbitMQ: a real broker, an exchange and queue of this file's own
// (deleted after), and a holding TCP proxy of its own for a broker that does not answer.
import { describe } from "vitest";
import { createRabbitMqTransport } from "../../packages/rabbitmq/src/delivery/transports/rabbitmq.js";
import { type TransportHarness, transportContract } from "../contracts/transport.js";
import { serviceAvailable } from "../helpers/services.js";
import { brokerHarness } from "./contractHarnesses.js";
import { createRabbitMqTestBroker } from "./rabbitmqTestBroker.js";

const available = await serviceAvailable("rabbitmq");

// Skipped only when RabbitMQ is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("RabbitMQ transport contract", () => {
  transportContract(
    "rabbitmq",
    async (): Promise<TransportHarness> => {
      const broker = await createRabbitMqTestBroker("contract");
      // Holds every byte until released: the broker never sees the connection, so nothing
      // (handshake, publish, confirm) comes back.
      const held = await broker.proxy(true);
      return brokerHarness(createRabbitMqTransport({ ssrfAllow: ["127.0.0.0/8"] }), broker, held, {
        succeed: broker.target(),
        hang: broker.target(broker.routingKey, broker.via(held)),
        // No queue is bound to this key: the broker returns the message (basic.return).
        transient: broker.target("unbound"),
      });
    },
    { permanent: true },
  );
});
