// `herald/delivery`: the delivery engine's building blocks — dispatching messages to matching
// endpoints, the HTTP transport, the SSRF guard, per-endpoint flow control and the response
// rules. The worker that ties them together is the next step.
export {
  createDispatcher,
  type Dispatcher,
  type DispatcherOptions,
  type DispatchInput,
  type DispatchResult,
} from "./dispatcher.js";
export {
  type AcquireResult,
  createEndpointLimiter,
  type EndpointLimiter,
  type EndpointLimiterOptions,
  type EndpointLimits,
} from "./endpointLimiter.js";
export {
  type AddressVerdict,
  type BlockReason,
  type CidrList,
  classifyAddress,
  parseCidrList,
} from "./ipRanges.js";
export {
  type AttemptOutcome,
  classifyResponse,
  type ResponseClassification,
  type RetryReason,
  type TruncatedBody,
  truncateBody,
} from "./responseRules.js";
export {
  createSsrfGuard,
  isSsrfBlocked,
  type SsrfGuard,
  type SsrfGuardOptions,
} from "./ssrfGuard.js";
export { createTokenBucket, type TokenBucket, type TokenBucketOptions } from "./tokenBucket.js";
export {
  createHttpTransport,
  type HttpTransport,
  type HttpTransportOptions,
} from "./transports/http.js";
export type {
  Transport,
  TransportAttempt,
  TransportResult,
  TransportSendInput,
} from "./transports/types.js";
