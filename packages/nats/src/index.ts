// `@heraldjs/nats`: NATS JetStream for Herald — the bus publisher and consumers, stream set-up,
// and the delivery transport that publishes webhooks to a subject.
export * from "./bus/nats/index.js";
export {
  createNatsTransport,
  type NatsTransport,
  type NatsTransportOptions,
  type NatsTransportTarget,
  natsMsgId,
} from "./delivery/transports/nats.js";
