// `@heraldjs/core/delivery`: the delivery engine — dispatching messages to matching endpoints, the
// worker that claims and sends them, the HTTP and function transports, the SSRF guard,
// per-endpoint flow control and the response rules.
export type {
  DeliveryEventListener,
  DeliveryWorkerEvent,
  DeliveryWorkerEventName,
  DeliveryWorkerEvents,
} from "./deliveryEvents.js";
export {
  createDeliveryWorker,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
} from "./deliveryWorker.js";
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
export * from "./endpointSecrets.js";
export {
  type AddressVerdict,
  type BlockReason,
  type CidrList,
  classifyAddress,
  parseCidrList,
} from "./ipRanges.js";
export {
  type RotateNamedSecretOptions,
  type RotateNamedSecretResult,
  rotateNamedSecret,
} from "./namedSecrets.js";
export {
  checkNatsToken,
  type MintedNatsToken,
  type MintNatsTokenInput,
  mintNatsToken,
  NATS_TOKEN_PREFIX,
  type NatsTokenCheck,
  type NatsTokenRefusalReason,
  natsTokenHash,
  revokeNatsToken,
} from "./natsTokens.js";
export {
  classifyResponse,
  type ResponseClassification,
  type RetryReason,
  type SendResult,
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
  createFunctionTransport,
  type DeliveryFunction,
  type FunctionDeliveryContext,
  type FunctionTransportOptions,
} from "./transports/function.js";
export {
  createHttpTransport,
  type HttpTransport,
  type HttpTransportOptions,
} from "./transports/http.js";
export {
  MAX_SIMULATE_DELAY_MS,
  SIMULATE_FUNCTION_NAME,
  SIMULATE_TRANSIENT_FAILURES,
  type SimulateResult,
  simulateDelivery,
} from "./transports/simulate.js";
export type {
  Transport,
  TransportAttempt,
  TransportResult,
  TransportSendInput,
} from "./transports/types.js";
export { attachWorkerLogger, type WorkerLogger } from "./workerLogging.js";
