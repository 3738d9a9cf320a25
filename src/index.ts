// `herald`: the whole public library surface.
export * from "./core/index.js";
export * from "./webhooks.js";
