// `@heraldjs/core/bus`: the bus ports, event subjects and encoding, the in-memory bus, the inbox
// handler (the NATS JetStream adapter is @heraldjs/nats).
export * from "./duplicateWindow.js";
export * from "./envelopeCodec.js";
export * from "./inboxHandler.js";
export * from "./memory.js";
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
