// `POST /v1/sources` and the `sources:` of herald.yaml.

import {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_SOURCE_TOLERANCE_S,
  DEFAULT_SOURCE_TYPE_FROM,
  MAX_NAME_LENGTH,
} from "@heraldjs/core/internal/model/constants.js";
import type { SourceInput, SourceTypeFrom } from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  headerNameSchema,
  keySchema,
  schemeNameSchema,
  secretSchema,
  typeNameSchema,
} from "@heraldjs/spec/internal/wire/common.js";
import {
  toSchemeOptions,
  wireHmacOptionsSchema,
} from "@heraldjs/spec/internal/wire/schemeOptions.js";
import type { HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { z } from "zod";
import { checkSecret, schemeSpec } from "./endpoint.js";

export const wireTypeFromSchema = z.union(
  [
    z.strictObject({ body: z.string().min(1).max(MAX_NAME_LENGTH) }),
    z.strictObject({ header: headerNameSchema }),
    z.strictObject({ fixed: typeNameSchema }),
  ],
  { error: 'must be {body: "json.path"}, {header: "Header-Name"} or {fixed: "type"}' },
);

export const wireSourceSchema = z.strictObject({
  /** The `:source` of `POST /webhooks/:source`. */
  name: keySchema,
  scheme: schemeNameSchema,
  /** Only with scheme `hmac`. */
  scheme_options: wireHmacOptionsSchema.nullable().optional(),
  /** Every secret accepted (rotation on the provider's side). */
  secrets: z.array(secretSchema).min(1).max(16),
  tolerance_s: z.number().min(0).max(86_400).default(DEFAULT_SOURCE_TOLERANCE_S),
  /** Header carrying the dedupe key; null = the scheme's id, else a hash of the body. */
  idempotency_header: headerNameSchema.nullable().default(null),
  idempotency_required: z.boolean().default(false),
  dedupe_ttl_s: z.number().gt(0).max(31_536_000).default(DEFAULT_DEDUPE_TTL_S),
  /** How the message type `<source>.<type>` is taken. */
  type_from: wireTypeFromSchema.default(() => ({ ...DEFAULT_SOURCE_TYPE_FROM })),
});

/** What a client sends (defaults optional). */
export type WireSourceInput = z.input<typeof wireSourceSchema>;
/** After parsing (defaults filled). */
export type WireSource = z.output<typeof wireSourceSchema>;

/**
 * The store input of a source body (parsed by wireSourceSchema, or validated by its JSON Schema:
 * missing defaults are applied here too). Throws `request.invalid` (`details.field`) for
 * `scheme_options` on a scheme other than hmac, bad hmac options, or a secret the scheme cannot
 * verify with (`secrets[i]`: the endpoints' rule, checkSecret).
 */
export function toSourceInput(wire: WireSourceInput): SourceInput {
  const schemeOptions = toSchemeOptions(wire.scheme, wire.scheme_options);
  const secrets = [...(wire.secrets ?? [])];
  checkSourceSecrets(wire.scheme, schemeOptions, secrets);
  return {
    name: wire.name,
    scheme: wire.scheme,
    schemeOptions,
    secrets,
    toleranceS: wire.tolerance_s ?? DEFAULT_SOURCE_TOLERANCE_S,
    idempotencyHeader: wire.idempotency_header ?? null,
    idempotencyRequired: wire.idempotency_required ?? false,
    dedupeTtlS: wire.dedupe_ttl_s ?? DEFAULT_DEDUPE_TTL_S,
    typeFrom: { ...(wire.type_from ?? DEFAULT_SOURCE_TYPE_FROM) } as SourceTypeFrom,
  };
}

/**
 * Refuses a source secret its scheme cannot verify with (400 `request.invalid` naming
 * `secrets[i]`, or `code` with `field`, e.g. the CLI's `--secret`): otherwise every webhook to
 * the source would fail.
 */
export function checkSourceSecrets(
  scheme: string,
  schemeOptions: JsonObject | null,
  secrets: readonly string[],
  options: { field?: string; code?: HeraldErrorCode } = {},
): void {
  const spec = schemeSpec(scheme, schemeOptions);
  secrets.forEach((secret, i) => {
    checkSecret(spec, scheme, secret, options.field ?? `secrets[${i}]`, "verify", options.code);
  });
}
