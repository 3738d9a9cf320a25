// `herald/core`: envelope, ids, errors, clock, retry policies, type patterns — pure, no I/O.

export * from "./clock.js";
export * from "./cloudevents.js";
export * from "./envelope.js";
export * from "./errors.js";
export * from "./eventType.js";
export * from "./ids.js";
export * from "./isoDateTime.js";
export {
  type FindJsonProblemOptions,
  findJsonProblem,
  isPlainObject,
  type JsonObject,
  type JsonPrimitive,
  type JsonProblem,
  type JsonValue,
  MAX_JSON_DEPTH,
} from "./json.js";
export {
  type JsonTextProblem,
  jsonTextError,
  type ScanJsonTextOptions,
  scanJsonText,
} from "./jsonText.js";
export * from "./normalizeRetryPolicy.js";
export * from "./retryPolicy.js";
export { textProblem } from "./text.js";
export * from "./typePattern.js";
export { AGGREGATE_TYPE_PATTERN, MAX_ENVELOPE_STRING_LENGTH } from "./validateEnvelope.js";
