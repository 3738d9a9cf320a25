// Parts of the transport-contract harnesses (test/contracts/transport.ts) that transports of one
// kind share: the capabilities of a listener that answers each delivery (gRPC, WebSocket), and
// the whole harness of a broker reached through a holding TCP proxy (RabbitMQ, Redis Streams).
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type { PeerSeen, TransportHarness } from "../contracts/transport.js";
import type { TcpProxy } from "./queueTcpProxy.js";

/**
 * A listener that answers each delivery: it verifies the signature, retries on `UNAVAILABLE` /
 * a nack with retry, refuses for good with any other status / a nack without retry, can
 * withhold its answer, and sees the message id as webhook-id on every retry.
 */
export const LISTENER_CAPABILITIES: TransportHarness["capabilities"] = {
  signs: true,
  transient: { outcome: "retry", reason: "unavailable" },
  permanent: { outcome: "reject", reason: "rejected" },
  hangs: true,
  idOf: ({ message }) => message.id,
};

/** A broker under test with keys of its own (a RabbitMqTestBroker, a RedisTestStream). */
export interface BrokerUnderTest {
  received(): Promise<PeerSeen[]>;
  dispose(): Promise<void>;
}

/**
 * The harness of a broker transport: `targets.succeed` reaches the broker, `targets.hang` goes
 * through `held` (a proxy that holds every byte, so the broker never answers), and
 * `targets.transient` is refused by the broker in a way that may pass later.
 */
export function brokerHarness(
  transport: Transport,
  broker: BrokerUnderTest,
  held: TcpProxy,
  targets: { succeed: string; hang: string; transient: string },
): TransportHarness {
  return {
    transport,
    target: (behaviour) =>
      behaviour === "succeed"
        ? targets.succeed
        : behaviour === "hang"
          ? targets.hang
          : targets.transient,
    received: () => broker.received(),
    release: () => held.release(),
    dispose: () => broker.dispose(),
    capabilities: {
      // The signed headers travel with the message (AMQP headers, the entry's `headers` field).
      signs: true,
      transient: { outcome: "retry", reason: "network_error" },
      // A broker has no final refusal: an unroutable message or a WRONGTYPE key may pass later.
      permanent: null,
      hangs: true,
      // The message id (AMQP message-id, the entry's `id`) is webhook-id, the same on every retry.
      idOf: ({ message }) => message.id,
    },
  };
}
