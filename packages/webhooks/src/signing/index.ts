export { RAW_BODY_HINT } from "./body.js";
export { headerReader } from "./headers.js";
export {
  builtinSchemes,
  type HmacSchemeSpec,
  resolveScheme,
  type SchemeName,
  type SchemeSpec,
  schemeNames,
} from "./registry.js";
export { createHmacScheme, type HmacSchemeOptions } from "./schemes/hmac.js";
export { generateStandardKeyPair } from "./schemes/standard.js";
export { withTwilioBodyHash } from "./schemes/twilio.js";
export {
  DEFAULT_TOLERANCE_SECONDS,
  generateSecret,
  type SignWebhookOptions,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
} from "./sign.js";
export type * from "./types.js";
