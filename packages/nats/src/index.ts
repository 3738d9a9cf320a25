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
// The NATS platform (docs/nats.md): keys, the auth callout, commands to agents, the listener.
export {
  AUTH_CALLOUT_SUBJECT,
  type NatsAuthCallout,
  type NatsAuthCalloutOptions,
  type NatsAuthCalloutStats,
  type NatsAuthDecision,
  type NatsAuthRefusalReason,
  startNatsAuthCallout,
} from "./platform/authCallout.js";
export {
  broadcastCommand,
  type CommandClient,
  type CommandReply,
  createCommandClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type SendCommandOptions,
  sendCommand,
} from "./platform/natsCommands.js";
export {
  generateNatsKeys,
  type NatsConfOptions,
  type NatsKey,
  type NatsPlatformKeys,
  natsConfSnippet,
} from "./platform/natsKeys.js";
export {
  type NatsListener,
  type NatsListenerOptions,
  type NatsListenerStats,
  startNatsListener,
} from "./platform/natsListener.js";
export {
  agentBroadcastSubject,
  agentCommandSubject,
  agentEventSubject,
  agentInboxPrefix,
  clientEventSubject,
  type NatsUserPermissions,
  natsPermissions,
} from "./platform/natsSubjects.js";
