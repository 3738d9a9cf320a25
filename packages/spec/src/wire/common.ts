// Building blocks of the wire schemas: names, header names, type names and patterns, written as
// plain zod checks (regex, bounds) so every schema converts to JSON Schema for Fastify/OpenAPI.

import { MAX_EVENT_TYPE_LENGTH } from "@heraldjs/core/internal/core/eventType.js";
import { MAX_TYPE_PATTERN_LENGTH } from "@heraldjs/core/internal/core/typePattern.js";
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import { schemeNames } from "@heraldjs/webhooks/internal/signing/registry.js";
import { z } from "zod";

/** Ids and names used as keys and URL path segments (the store's rule). */
export const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** RFC 9110 token: what a header name may be. */
export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value that cannot split or truncate a request. */
export const HEADER_VALUE_PATTERN = /^[^\r\n\0]*$/;

// A literal segment of a type: no white space, `.`, `*` or control character (typePattern.ts).
const SEGMENT = "[^\\s.*\\u0000-\\u001f\\u007f-\\u009f]+";
const PATTERN_SEGMENT = `(?:\\*|${SEGMENT})`;
/** A concrete type (`order.created.v1`, `github.pull_request`): a pattern without `*`. */
export const TYPE_NAME_PATTERN = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*$`);
/** An event-type pattern (`order.*`, `*.created.*`, `*`), see src/core/typePattern.ts. */
export const TYPE_PATTERN_PATTERN = new RegExp(`^${PATTERN_SEGMENT}(?:\\.${PATTERN_SEGMENT})*$`);

export const keySchema = z
  .string()
  .regex(KEY_PATTERN, { error: "must be 1–64 characters of A–Z, a–z, 0–9, _, - and ." });

export const headerNameSchema = z
  .string()
  .regex(HEADER_NAME_PATTERN, { error: "must be an HTTP header name (letters, digits, -…)" });

export const headerMapSchema = z.record(
  headerNameSchema,
  z
    .string()
    .max(MAX_TEXT_LENGTH)
    .regex(HEADER_VALUE_PATTERN, { error: "must not contain CR, LF or NUL" }),
);

export const typeNameSchema = z.string().max(MAX_EVENT_TYPE_LENGTH).regex(TYPE_NAME_PATTERN, {
  error: "must be a type like order.created.v1 (dot-separated segments, no spaces or *)",
});

export const typePatternSchema = z
  .string()
  .max(MAX_TYPE_PATTERN_LENGTH)
  .regex(TYPE_PATTERN_PATTERN, {
    error: 'must be a type pattern like order.* (dot-separated segments, "*" as a whole segment)',
  });

export const nameSchema = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .regex(/^[^\0]*$/, { error: "must not contain U+0000" });

export const descriptionSchema = z
  .string()
  .max(MAX_TEXT_LENGTH)
  .regex(/^[^\0]*$/, { error: "must not contain U+0000" });

/** A signing secret: never shown in any message. */
export const secretSchema = z.string().min(1).max(1024);

export const schemeNameSchema = z.enum(schemeNames as [string, ...string[]]);

/** A JSON object (a JSON Schema, scheme options…); values are checked by the store. */
export const jsonObjectSchema = z.record(z.string(), z.unknown());

/** The `request.invalid` error of a converter, naming the wire field (`details.field`). */
export function invalidField(
  field: string,
  problem: string,
  code: HeraldErrorCode = "request.invalid",
  cause?: unknown,
): HeraldError {
  return new HeraldError(code, `${field}: ${problem}`, {
    details: { field },
    ...(cause === undefined ? {} : { cause }),
  });
}
