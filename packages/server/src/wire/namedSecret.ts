// `/v1/secrets`: named signing secrets on the wire. Values are write-only: a value given is
// never returned; a generated one is returned once, by the call that made it.

import { DEFAULT_SECRET_OVERLAP_MS } from "@heraldjs/core/internal/delivery/endpointSecrets.js";
import { DEFAULT_ENDPOINT_SCHEME } from "@heraldjs/core/internal/model/constants.js";
import type {
  NamedSecretInput,
  NamedSecretRecord,
  TimeInput,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  keySchema,
  nameSchema,
  schemeNameSchema,
  secretSchema,
} from "@heraldjs/spec/internal/wire/common.js";
import {
  schemeOptionsToWire,
  toSchemeOptions,
  wireHmacOptionsSchema,
} from "@heraldjs/spec/internal/wire/schemeOptions.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import { z } from "zod";
import { checkSecret, schemeSpec } from "./endpoint.js";

export const wireNamedSecretCreateSchema = z.strictObject({
  /** Unique per tenant; what `POST /v1/messages` names as `secret_name`. */
  name: keySchema,
  tenant: nameSchema.optional(),
  /** The scheme the secret signs with; default standard. */
  scheme: schemeNameSchema.default(DEFAULT_ENDPOINT_SCHEME),
  /** Only with scheme `hmac` (e.g. `{"id_header": "X-Delivery-Id"}`). */
  scheme_options: wireHmacOptionsSchema.nullable().optional(),
  /** Generated for the scheme when absent, and then returned once. */
  secret: secretSchema.optional(),
});

/** The body of both rotations: `/v1/endpoints/:id/rotate-secret` and `/v1/secrets/:name/rotate`. */
export const wireRotateSecretSchema = z
  .strictObject({
    secret: secretSchema.optional().describe("Default: a new generated secret"),
    overlap_s: z
      .number()
      .min(0)
      .max(30 * 86_400)
      .optional()
      .describe(
        `How long the old secret keeps signing; default ${DEFAULT_SECRET_OVERLAP_MS / 1000}`,
      ),
  })
  .default({});

export type WireNamedSecretCreateInput = z.input<typeof wireNamedSecretCreateSchema>;
export type WireRotateSecret = z.output<typeof wireRotateSecretSchema>;

interface NamedSecretWire {
  name: string;
  tenant: string;
  scheme: string;
  scheme_options: JsonObject | null;
  /** Current first; never the values. */
  versions: { created_at: string; expires_at: string | null }[];
  created_at: string;
  updated_at: string;
}

/**
 * The store input of a create body and its value: the one given (checked against the scheme,
 * as endpoint secrets are) or a new one generated for the scheme (`generated: true`). Throws
 * `request.invalid` naming the field, never repeating the value.
 */
export function toNamedSecretInput(
  wire: WireNamedSecretCreateInput,
  now?: TimeInput,
): { input: NamedSecretInput; secret: string; generated: boolean } {
  const scheme = wire.scheme ?? DEFAULT_ENDPOINT_SCHEME;
  const schemeOptions = toSchemeOptions(scheme, wire.scheme_options);
  const spec = schemeSpec(scheme, schemeOptions);
  const generated = wire.secret === undefined;
  const secret = wire.secret ?? generateSecret(spec);
  if (!generated) checkSecret(spec, scheme, secret);
  return {
    input: {
      name: wire.name,
      ...(wire.tenant === undefined ? {} : { tenant: wire.tenant }),
      scheme,
      schemeOptions,
      secrets: [{ secret, ...(now === undefined ? {} : { createdAt: now }) }],
    },
    secret,
    generated,
  };
}

export function namedSecretToWire(record: NamedSecretRecord): NamedSecretWire {
  return {
    name: record.name,
    tenant: record.tenant,
    scheme: record.scheme,
    scheme_options: schemeOptionsToWire(record.schemeOptions),
    versions: record.secrets.map((s) => ({ created_at: s.createdAt, expires_at: s.expiresAt })),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

const time = z.string().describe("ISO 8601, UTC");

export const namedSecretShape = z.object({
  name: z.string(),
  tenant: z.string(),
  scheme: z.string(),
  scheme_options: z.record(z.string(), z.unknown()).nullable(),
  versions: z
    .array(z.object({ created_at: time, expires_at: time.nullable() }))
    .describe("Current first; the values are never returned"),
  created_at: time,
  updated_at: time,
});
