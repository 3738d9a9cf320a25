// `scheme_options` on the wire: the generic `hmac` scheme's options in snake_case, stored in
// camelCase (HmacSchemeOptions) as the signing registry reads them.

import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import {
  createHmacScheme,
  type HmacSchemeOptions,
} from "@heraldjs/webhooks/internal/signing/schemes/hmac.js";
import { z } from "zod";
import { headerNameSchema, invalidField } from "./common.js";

export const wireHmacOptionsSchema = z.strictObject({
  /** Default sha256. */
  algorithm: z.enum(["sha256", "sha512"]).optional(),
  /** How the digest is written; default hex. */
  encoding: z.enum(["hex", "base64"]).optional(),
  /** Default X-Signature. */
  signature_header: headerNameSchema.optional(),
  /** Written before each digest, e.g. `sha256=`. */
  signature_prefix: z.string().max(64).optional(),
  /** When set, the timestamp is signed and stale deliveries are refused. */
  timestamp_header: headerNameSchema.optional(),
  /** Header carrying the delivery id. */
  id_header: headerNameSchema.optional(),
  /** Signed content with {id} {timestamp} {body}; default {body} or {timestamp}.{body}. */
  template: z.string().max(256).optional(),
  /** How secrets are written; default utf8. */
  secret_encoding: z.enum(["utf8", "base64", "hex"]).optional(),
  /** Between several signatures in one header; default ",". */
  separator: z.string().max(8).optional(),
  /** Unit of the timestamp header; default seconds. */
  timestamp_unit: z.enum(["seconds", "milliseconds"]).optional(),
});

export type WireHmacOptions = z.input<typeof wireHmacOptionsSchema>;

const TO_CAMEL = {
  algorithm: "algorithm",
  encoding: "encoding",
  signature_header: "signatureHeader",
  signature_prefix: "signaturePrefix",
  timestamp_header: "timestampHeader",
  id_header: "idHeader",
  template: "template",
  secret_encoding: "secretEncoding",
  separator: "separator",
  timestamp_unit: "timestampUnit",
} as const satisfies Record<keyof WireHmacOptions, keyof HmacSchemeOptions>;

const TO_SNAKE = Object.fromEntries(Object.entries(TO_CAMEL).map(([s, c]) => [c, s])) as Record<
  string,
  string
>;

/**
 * The stored (camelCase) options of a scheme's wire `scheme_options`; null without options.
 * Only `hmac` takes options; they are compiled once here so a bad combination (a template
 * using {timestamp} without timestamp_header…) fails now. Throws `request.invalid` naming
 * `<field>.<option>`.
 */
export function toSchemeOptions(
  scheme: string,
  wire: WireHmacOptions | null | undefined,
  field = "scheme_options",
): JsonObject | null {
  if (wire === undefined || wire === null) return null;
  if (scheme !== "hmac") {
    throw invalidField(field, `is only allowed with scheme "hmac" (scheme is "${scheme}")`);
  }
  const options: JsonObject = {};
  for (const [key, value] of Object.entries(wire)) {
    if (value !== undefined) options[TO_CAMEL[key as keyof WireHmacOptions]] = value;
  }
  try {
    createHmacScheme(options as HmacSchemeOptions);
  } catch (error) {
    if (!isHeraldError(error, "scheme.invalid_options")) throw error;
    const option = String(error.details?.option ?? "");
    const snake = TO_SNAKE[option];
    // The scheme speaks camelCase (timestampHeader); the wire speaks snake_case.
    const problem = error.message
      .replace(/^hmac scheme option \S+: /, "")
      .replace(/\b[a-z]+[A-Z][A-Za-z]*\b/g, (name) => TO_SNAKE[name] ?? name);
    throw invalidField(
      snake === undefined ? field : `${field}.${snake}`,
      problem,
      undefined,
      error,
    );
  }
  return options;
}

/** The wire (snake_case) form of stored scheme options; null stays null. */
export function schemeOptionsToWire(options: JsonObject | null): JsonObject | null {
  if (options === null) return null;
  return Object.fromEntries(
    Object.entries(options).map(([key, value]) => [TO_SNAKE[key] ?? key, value]),
  );
}
