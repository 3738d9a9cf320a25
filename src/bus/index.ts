// `herald/bus`: the bus ports, event subjects and encoding, the in-memory bus, the inbox
// handler and the NATS JetStream adapter (whose client loads only when used).
export * from "./duplicateWindow.js";
export * from "./envelopeCodec.js";
export * from "./inboxHandler.js";
export * from "./memory.js";
export * from "./nats/index.js";
export type * from "./port.js";
export {
  checkSubscribeOptions,
  DEFAULT_MAX_DELIVER,
  DEFAULT_NAK_DELAY_MS,
  type DeliveryActions,
  retryDelayMs,
  type Settlement,
  settleDelivery,
} from "./settle.js";
export * from "./subject.js";
export { subjectMatches } from "./subjectMatch.js";
