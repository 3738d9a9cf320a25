// `@heraldjs/nats`: NATS JetStream for Herald — the bus publisher and consumers, stream set-up,
// and the delivery transports that publish webhooks to a subject (JetStream, and core NATS for
// live subscribers such as browsers).
export * from "./bus/nats/index.js";
export {
  createNatsTransport,
  type NatsTransport,
  type NatsTransportOptions,
  type NatsTransportTarget,
  natsMsgId,
} from "./delivery/transports/nats.js";
export {
  createNatsCoreTransport,
  type NatsCoreTransport,
  type NatsCoreTransportOptions,
} from "./delivery/transports/natsCore.js";
export {
  checkNatsSubjectTemplate,
  NATS_SUBJECT_PLACEHOLDERS,
  type NatsSubjectPlaceholder,
  type NatsSubjectValues,
  type RenderedSubject,
  renderNatsSubject,
} from "./delivery/transports/natsSubjectTemplate.js";
