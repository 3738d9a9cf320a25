// The wire (snake_case JSON) schemas shared by the management API and herald.yaml, and their
// converters to store inputs. Every schema converts with `z.toJSONSchema(schema, { io: "input" })`.
export * from "./wireCommon.js";
export * from "./wireEndpoint.js";
export * from "./wireEventType.js";
export * from "./wireRetry.js";
export * from "./wireSchemeOptions.js";
export * from "./wireSource.js";
export * from "./zodIssues.js";
