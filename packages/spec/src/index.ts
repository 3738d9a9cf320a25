// `@heraldjs/spec`: a webhooks spec — each inbound and outbound webhook, its signing, window,
// dedupe, retries and event types with JSON Schemas — loaded with file:line:column errors,
// written as OpenAPI 3.1 byte for byte the same every time, imported back, and checked.

export { renderAsyncApi, toAsyncApi } from "./spec/asyncapi.js";
export { canonicalJson } from "./spec/canonicalJson.js";
export { type CheckResult, checkAsyncApi, checkOpenApi, lineDiff } from "./spec/check.js";
export { type GeneratedFile, generateFiles } from "./spec/generate.js";
export {
  fromAsyncApi,
  fromOpenApi,
  type ImportProblem,
  type ImportResult,
} from "./spec/importOpenApi.js";
export {
  fromThirdPartyOpenApi,
  type ThirdPartyImportOptions,
  type ThirdPartyImportResult,
} from "./spec/importThirdParty.js";
export { type LoadedSpec, loadSpec, parseSpec } from "./spec/load.js";
export {
  type GeneratorInfo,
  renderOpenApi,
  SPEC_EXTENSION,
  specDigest,
  toOpenApi,
  WEBHOOK_EXTENSION,
} from "./spec/openapi.js";
export type { JsonSchema } from "./spec/resolveSchemas.js";
export {
  type BackoffSpec,
  type EventSpec,
  SIGNING_SHORT_FORMS,
  type SigningSpec,
  type Spec,
  type WebhookSpec,
} from "./spec/schema.js";
export { receivePath } from "./spec/specRules.js";
