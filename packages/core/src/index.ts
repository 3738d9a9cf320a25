// `@heraldjs/core`: envelope, ids, errors, clock, retry policies, type patterns — pure, no I/O.

export * from "@heraldjs/webhooks/internal/core/clock.js";
export * from "@heraldjs/webhooks/internal/core/errors.js";
export {
  type FindJsonProblemOptions,
  findJsonProblem,
  isPlainObject,
  type JsonObject,
  type JsonPrimitive,
  type JsonProblem,
  type JsonValue,
  MAX_JSON_DEPTH,
} from "@heraldjs/webhooks/internal/core/json.js";
export {
  type JsonTextProblem,
  jsonTextError,
  type ScanJsonTextOptions,
  scanJsonText,
} from "@heraldjs/webhooks/internal/core/jsonText.js";
export { textProblem } from "@heraldjs/webhooks/internal/core/text.js";
export * from "./core/cloudevents.js";
export * from "./core/envelope.js";
export * from "./core/eventType.js";
export * from "./core/ids.js";
export * from "./core/isoDateTime.js";
export * from "./core/normalizeRetryPolicy.js";
export * from "./core/retryPolicy.js";
export * from "./core/typePattern.js";
export { AGGREGATE_TYPE_PATTERN, MAX_ENVELOPE_STRING_LENGTH } from "./core/validateEnvelope.js";
