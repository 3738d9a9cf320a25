// `POST /v1/sources` and the `sources:` of herald.yaml.

import { parseCidrList } from "@heraldjs/core/internal/delivery/ipRanges.js";
import {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_SOURCE_TOLERANCE_S,
  DEFAULT_SOURCE_TYPE_FROM,
  MAX_NAME_LENGTH,
} from "@heraldjs/core/internal/model/constants.js";
import type { SourceInput, SourceTypeFrom } from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  headerNameSchema,
  invalidField,
  keySchema,
  secretSchema,
  typeNameSchema,
} from "@heraldjs/spec/internal/wire/common.js";
import {
  toSchemeOptions,
  wireHmacOptionsSchema,
} from "@heraldjs/spec/internal/wire/schemeOptions.js";
import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import {
  CREDENTIAL_SCHEMES,
  credentialSecretProblem,
  isCredentialScheme,
} from "@heraldjs/webhooks/internal/signing/credentials.js";
import { schemeNames } from "@heraldjs/webhooks/internal/signing/registry.js";
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

/** The idempotency header of an unsigned source that names none. */
export const UNSIGNED_IDEMPOTENCY_HEADER = "Idempotency-Key";
/** Most entries in a source's `allow_from`. */
const MAX_ALLOW_FROM = 64;

/** A signing scheme, or a verifier by credentials: `token`, `basic`, `none` (unsigned). */
export const sourceSchemeSchema = z.enum([...schemeNames, ...CREDENTIAL_SCHEMES] as unknown as [
  string,
  ...string[],
]);

export const wireSourceSchema = z.strictObject({
  /** The `:source` of `POST /webhooks/:source`. */
  name: keySchema,
  scheme: sourceSchemeSchema,
  /** Only with scheme `hmac`. */
  scheme_options: wireHmacOptionsSchema.nullable().optional(),
  /** Only with scheme `token`: the header carrying the bare token (default `Authorization: Bearer`). */
  token_header: headerNameSchema.nullable().optional(),
  /**
   * Every secret accepted (rotation on the provider's side): signing secrets, tokens, or
   * `user:password` for basic; at least one, except for `none`, which takes none.
   */
  secrets: z.array(secretSchema).max(16).default([]),
  tolerance_s: z.number().min(0).max(86_400).default(DEFAULT_SOURCE_TOLERANCE_S),
  /** Header carrying the dedupe key; null = the scheme's id, else a hash of the body. */
  idempotency_header: headerNameSchema.nullable().default(null),
  idempotency_required: z.boolean().default(false),
  dedupe_ttl_s: z.number().gt(0).max(31_536_000).default(DEFAULT_DEDUPE_TTL_S),
  /** How the message type `<source>.<type>` is taken. */
  type_from: wireTypeFromSchema.default(() => ({ ...DEFAULT_SOURCE_TYPE_FROM })),
  /** Sender addresses accepted (CIDRs or single addresses); empty = any. */
  allow_from: z.array(z.string().min(1).max(64)).max(MAX_ALLOW_FROM).default([]),
});

/** What a client sends (defaults optional). */
export type WireSourceInput = z.input<typeof wireSourceSchema>;
/** After parsing (defaults filled). */
export type WireSource = z.output<typeof wireSourceSchema>;

export interface ToSourceInputOptions {
  /** The service allows unsigned sources (`ingest.allow_unsigned`); else `none` is refused. */
  allowUnsigned?: boolean;
}

/** The refusal of an unsigned source where the service does not allow them. */
export function unsignedNotAllowed(): HeraldError {
  return new HeraldError(
    "source.unsigned_not_allowed",
    "scheme: unsigned sources (scheme none) accept webhooks from anyone who knows the URL; the service refuses them unless it allows them explicitly: set ingest.allow_unsigned: true in herald.yaml (or HERALD_ALLOW_UNSIGNED=true)",
    { details: { field: "scheme" } },
  );
}

/** Checks each `allow_from` entry; throws `request.invalid` naming `allow_from[i]`. */
function checkAllowFrom(entries: readonly string[]): void {
  entries.forEach((entry, i) => {
    try {
      parseCidrList([entry]);
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      const why = error.message.slice(error.message.indexOf(": ") + 2);
      throw invalidField(`allow_from[${i}]`, `must be an IP address or a CIDR: ${why}`);
    }
  });
}

/** The scheme options of a credential source: `{ header }` for a token in its own header. */
function credentialOptions(wire: WireSourceInput): JsonObject | null {
  if (wire.scheme_options !== undefined && wire.scheme_options !== null) {
    throw invalidField("scheme_options", `is for scheme hmac only, not ${wire.scheme}`);
  }
  const header = wire.token_header ?? null;
  if (header === null) return null;
  if (wire.scheme !== "token") {
    throw invalidField("token_header", `is for scheme token only, not ${wire.scheme}`);
  }
  return { header };
}

/**
 * The idempotency settings of `wire`: an unsigned source always requires its header (default
 * `Idempotency-Key`) whatever `idempotency_required` says, since nothing else tells a retry from
 * a new webhook.
 */
function idempotency(wire: WireSourceInput): { header: string | null; required: boolean } {
  if (wire.scheme !== "none") {
    return {
      header: wire.idempotency_header ?? null,
      required: wire.idempotency_required ?? false,
    };
  }
  return { header: wire.idempotency_header ?? UNSIGNED_IDEMPOTENCY_HEADER, required: true };
}

/**
 * The store input of a source body (parsed by wireSourceSchema, or validated by its JSON Schema:
 * missing defaults are applied here too). Throws `request.invalid` (`details.field`) for
 * `scheme_options` on a scheme other than hmac, `token_header` on one other than token, bad
 * hmac options, a missing secret, a secret the scheme cannot verify with (`secrets[i]`: the
 * endpoints' rule, checkSecret; tokens and Basic pairs: credentialSecretProblem), an
 * `allow_from` entry that is no address or CIDR; `source.unsigned_not_allowed` for scheme `none`
 * unless `options.allowUnsigned`.
 */
export function toSourceInput(
  wire: WireSourceInput,
  options: ToSourceInputOptions = {},
): SourceInput {
  const secrets = [...(wire.secrets ?? [])];
  let schemeOptions: JsonObject | null;
  if (isCredentialScheme(wire.scheme)) {
    if (wire.scheme === "none" && options.allowUnsigned !== true) throw unsignedNotAllowed();
    schemeOptions = credentialOptions(wire);
    if (secrets.length === 0 && wire.scheme !== "none") {
      throw invalidField("secrets", "needs at least one secret");
    }
  } else {
    if (wire.token_header !== undefined && wire.token_header !== null) {
      throw invalidField("token_header", `is for scheme token only, not ${wire.scheme}`);
    }
    schemeOptions = toSchemeOptions(wire.scheme, wire.scheme_options);
    if (secrets.length === 0) throw invalidField("secrets", "needs at least one secret");
  }
  checkSourceSecrets(wire.scheme, schemeOptions, secrets);
  const allowFrom = [...(wire.allow_from ?? [])];
  checkAllowFrom(allowFrom);
  const { header, required } = idempotency(wire);
  return {
    name: wire.name,
    scheme: wire.scheme,
    schemeOptions,
    secrets,
    toleranceS: wire.tolerance_s ?? DEFAULT_SOURCE_TOLERANCE_S,
    idempotencyHeader: header,
    idempotencyRequired: required,
    dedupeTtlS: wire.dedupe_ttl_s ?? DEFAULT_DEDUPE_TTL_S,
    typeFrom: { ...(wire.type_from ?? DEFAULT_SOURCE_TYPE_FROM) } as SourceTypeFrom,
    allowFrom,
  };
}

/** Refuses secrets a credential verifier cannot use (`secrets[i]`); `none` takes none. */
function checkCredentialSecrets(
  scheme: "token" | "basic" | "none",
  secrets: readonly string[],
  options: { field?: string; code?: HeraldErrorCode },
) {
  if (scheme === "none" && secrets.length > 0) {
    throw invalidField(options.field ?? "secrets", "must be empty for an unsigned source");
  }
  secrets.forEach((secret, i) => {
    const problem = credentialSecretProblem(scheme, secret);
    if (problem !== undefined) {
      throw invalidField(
        options.field ?? `secrets[${i}]`,
        `is not a usable ${scheme} credential: ${problem}`,
        options.code,
      );
    }
  });
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
  if (isCredentialScheme(scheme)) {
    checkCredentialSecrets(scheme, secrets, options);
    return;
  }
  const spec = schemeSpec(scheme, schemeOptions);
  secrets.forEach((secret, i) => {
    checkSecret(spec, scheme, secret, options.field ?? `secrets[${i}]`, "verify", options.code);
  });
}
