// The webhooks spec as written (YAML or JSON): one block per webhook — its direction, signing,
// window, dedupe, retries, path and event types with their JSON Schemas. The schema states the
// format; cross-field rules (what only `in` or `out` may say, unique names) are in specRules.ts.

import {
  MAX_EXPONENTIAL_FACTOR,
  MAX_RETRY_ATTEMPTS,
  MAX_RETRY_DELAY_S,
} from "@heraldjs/core/internal/core/normalizeRetryPolicy.js";
import { findJsonProblem, isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { schemeNames } from "@heraldjs/webhooks/internal/signing/registry.js";
import { z } from "zod";
import { headerNameSchema, typeNameSchema } from "../wire/common.js";
import { wireHmacOptionsSchema } from "../wire/schemeOptions.js";

/** Short forms of `signing`, besides every Herald scheme name. */
export const SIGNING_SHORT_FORMS = ["hmac-sha256", "hmac-sha512", "ed25519"] as const;

/**
 * JSON, returned as it was read. Zod's own JSON and record schemas return copies without any
 * `__proto__` key, which would vanish from the spec without a word; here it is a key like any
 * other, as it is in generated code and in the OpenAPI and AsyncAPI documents.
 */
function reportJsonProblem(value: unknown, context: z.RefinementCtx): void {
  const problem = findJsonProblem(value);
  if (problem === undefined) return;
  const where = problem.path === "" ? "" : `${problem.path}: `;
  context.addIssue({ code: "custom", message: `${where}${problem.reason}` });
}

const jsonValue = z.unknown().superRefine(reportJsonProblem);
const jsonObject = z
  .custom<Record<string, unknown>>(isPlainObject, "expected a JSON object")
  .superRefine(reportJsonProblem);

/** A webhook's name: a path segment and an identifier in generated code. */
export const webhookNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,62}$/,
    "must be lowercase letters, digits, - and _, starting with a letter",
  );

/** `signing: stripe`, `signing: hmac-sha256`, or `{ scheme: hmac, options: {…} }`. */
export const signingSchema = z.union([
  z.enum([...SIGNING_SHORT_FORMS, ...schemeNames]),
  z.strictObject({
    scheme: z.enum(schemeNames as [string, ...string[]]),
    /** The `hmac` scheme's options (snake_case, as on the wire). */
    options: wireHmacOptionsSchema.optional(),
  }),
]);

/** A JSON Schema inline, a file beside the spec, or a `$ref` into an OpenAPI/AsyncAPI document. */
export const eventSchemaSourceSchema = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ $ref: z.string().min(1) }),
  jsonObject,
]);

export const eventSpecSchema = z.strictObject({
  type: typeNameSchema,
  description: z.string().max(4096).optional(),
  schema: eventSchemaSourceSchema.optional(),
  examples: z.array(jsonValue).max(20).optional(),
  /** `true`, or when and by what it was replaced. */
  deprecated: z
    .union([
      z.boolean(),
      z.strictObject({
        since: z.string().max(64).optional(),
        replaced_by: typeNameSchema.optional(),
      }),
    ])
    .optional(),
});

const delayS = z.number().min(0).max(MAX_RETRY_DELAY_S);

/** How long to wait between attempts of an `out` webhook. */
export const backoffSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("exponential"),
    base_s: z.number().gt(0).max(MAX_RETRY_DELAY_S),
    factor: z.number().min(1).max(MAX_EXPONENTIAL_FACTOR).optional(),
    max_delay_s: z.number().min(0.001).max(MAX_RETRY_DELAY_S).optional(),
    jitter: z.number().min(0).max(1).optional(),
  }),
  z.strictObject({
    type: z.literal("linear"),
    base_s: z.number().gt(0).max(MAX_RETRY_DELAY_S),
    max_delay_s: z.number().min(0.001).max(MAX_RETRY_DELAY_S).optional(),
    jitter: z.number().min(0).max(1).optional(),
  }),
  z.strictObject({
    type: z.literal("schedule"),
    schedule_s: z.array(delayS).max(MAX_RETRY_ATTEMPTS - 1),
    jitter: z.number().min(0).max(1).optional(),
  }),
]);

/** `id` (the scheme's message id), `body` (its SHA-256), or `header:<name>`. */
export const dedupeKeySchema = z.union([
  z.enum(["id", "body"]),
  z
    .templateLiteral(["header:", z.string()])
    .refine(
      (key) => headerNameSchema.safeParse(key.slice("header:".length)).success,
      "must name a valid header after header:",
    ),
]);

export const webhookSpecSchema = z.strictObject({
  name: webhookNameSchema,
  direction: z.enum(["in", "out"]),
  description: z.string().max(4096).optional(),
  signing: signingSchema,
  /** Seconds a signed timestamp may be away from now (schemes that sign one). */
  timestamp_window: z.int().min(1).max(86_400).optional(),
  /** `in`: how a delivery is recognised again, and for how long (seconds). */
  dedupe: z
    .strictObject({
      key: dedupeKeySchema.optional(),
      ttl: z.int().min(1).max(31_536_000).optional(),
    })
    .optional(),
  /** `out`: attempts in total, the first one included. */
  max_attempts: z.int().min(1).max(MAX_RETRY_ATTEMPTS).optional(),
  /** `out`: the delays between attempts. */
  backoff: backoffSchema.optional(),
  /**
   * `in`: where a delivery's event type is read, as for the service's sources: a body field
   * (`{ body: "data.type" }`, dots between keys; default `{ body: "type" }`), a header, or fixed.
   */
  type_from: z
    .union([
      z.strictObject({ body: z.string().min(1).max(255) }),
      z.strictObject({ header: headerNameSchema }),
      z.strictObject({ fixed: typeNameSchema }),
    ])
    .optional(),
  /** `in`: where the webhook is received; default `/webhooks/<name>`. */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, "must be an absolute path of URL-safe characters")
    .max(1024)
    .optional(),
  events: z.array(eventSpecSchema).min(1).max(1000),
});

export const specFileSchema = z.looseObject({
  info: z
    .strictObject({
      title: z.string().min(1).max(256).optional(),
      version: z.string().min(1).max(64).optional(),
      description: z.string().max(4096).optional(),
    })
    .optional(),
  webhooks: z.array(webhookSpecSchema).min(1).max(500),
});

export type WebhookSpec = z.output<typeof webhookSpecSchema>;
export type EventSpec = z.output<typeof eventSpecSchema>;
export type SigningSpec = z.output<typeof signingSchema>;
export type BackoffSpec = z.output<typeof backoffSchema>;

/** A spec: what `webhooks:` (and `info:`) of the file say, nothing else of the file. */
export interface Spec {
  info?: { title?: string; version?: string; description?: string };
  webhooks: WebhookSpec[];
}
