// `herald/webhooks`: sign and verify webhooks, and receive them exactly once.
export * from "./inbound/index.js";
export * from "./signing/index.js";
