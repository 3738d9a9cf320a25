// NATS JetStream adapter: publisher, consumer, stream set-up. The NATS client itself is
// loaded on first use by these functions, not by importing this module.
export {
  createNatsBusConsumer,
  DEFAULT_ACK_WAIT_MS,
  type NatsBusConsumerOptions,
} from "./consumer.js";
export {
  createNatsConsumer,
  type NatsConsumer,
  type NatsConsumerOptions,
} from "./envelopeConsumer.js";
export type { NatsConnection, NatsConnectionOptions } from "./load.js";
export { createNatsPublisher, type NatsPublisher, type NatsPublisherOptions } from "./publisher.js";
export {
  DEFAULT_STREAM_NAME,
  DEFAULT_STREAM_SUBJECTS,
  ensureNatsStream,
  type NatsStreamOptions,
  type NatsStreamState,
} from "./stream.js";
