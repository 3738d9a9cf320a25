// The wire (snake_case JSON) schemas shared by the management API and herald.yaml, and their
// converters to store inputs. Every schema converts with `z.toJSONSchema(schema, { io: "input" })`.
export * from "@heraldjs/spec/internal/wire/common.js";
export * from "@heraldjs/spec/internal/wire/retry.js";
export * from "@heraldjs/spec/internal/wire/schemeOptions.js";
export * from "@heraldjs/spec/internal/wire/zodIssues.js";
export * from "./endpoint.js";
export * from "./eventType.js";
export * from "./source.js";
