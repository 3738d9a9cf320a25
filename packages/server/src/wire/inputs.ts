// The wire (snake_case JSON) schemas shared by the management API and herald.yaml, and their
// converters to store inputs. Every schema converts with `z.toJSONSchema(schema, { io: "input" })`.
export * from "./common.js";
export * from "./endpoint.js";
export * from "./eventType.js";
export * from "./retry.js";
export * from "./schemeOptions.js";
export * from "./source.js";
export * from "./zodIssues.js";
