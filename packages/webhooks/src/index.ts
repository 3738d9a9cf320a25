// `@heraldjs/webhooks`: sign and verify webhooks, and receive them exactly once. Node's built-ins
// only: no runtime dependency.
export {
  HeraldError,
  type HeraldErrorCode,
  type HeraldErrorOptions,
  isHeraldError,
} from "./core/errors.js";
export * from "./inbound/index.js";
export * from "./signing/index.js";
