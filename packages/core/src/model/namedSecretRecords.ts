// Named secrets: validated records built once here, so every adapter stores the same thing, and
// the errors the stores throw for them.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { secretList } from "./catalogRecords.js";
import { invalid, jsonObjectOrNull, key, text } from "./check.js";
import { DEFAULT_ENDPOINT_SCHEME, DEFAULT_TENANT } from "./constants.js";
import type {
  EndpointSecret,
  EndpointSecretInput,
  NamedSecretInput,
  NamedSecretRecord,
} from "./deliveryRecords.js";

const CODE = "secret.invalid";

function versions(value: unknown, nowIso: string): EndpointSecret[] {
  const list = secretList(value ?? [], nowIso, CODE);
  if (list.length === 0) throw invalid(CODE, "secrets", "must hold at least one secret");
  return list;
}

/** The record a create stores; throws `secret.invalid` naming the field (never the value). */
export function newNamedSecretRecord(input: NamedSecretInput, nowIso: string): NamedSecretRecord {
  if (!isPlainObject(input)) throw invalid(CODE, "secret", "must be an object");
  return {
    tenant: text(input.tenant ?? DEFAULT_TENANT, "tenant", CODE),
    name: key(input.name, "name", CODE),
    scheme: text(input.scheme ?? DEFAULT_ENDPOINT_SCHEME, "scheme", CODE),
    schemeOptions: jsonObjectOrNull(input.schemeOptions, "schemeOptions", CODE),
    secrets: versions(input.secrets, nowIso),
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

/** The record with new secret versions (a rotation); name, tenant and scheme stay. */
export function rotatedNamedSecretRecord(
  existing: NamedSecretRecord,
  secrets: readonly EndpointSecretInput[],
  nowIso: string,
): NamedSecretRecord {
  return { ...existing, secrets: versions(secrets, nowIso), updatedAt: nowIso };
}

/** The key of a named secret in maps: tenant and name cannot contain U+0000 together. */
export function namedSecretKey(tenant: string, name: string): string {
  return `${tenant}\0${name}`;
}

export function namedSecretNotFound(tenant: string, name: string): HeraldError {
  return new HeraldError(
    "secret.not_found",
    `No secret ${JSON.stringify(name)} in tenant ${JSON.stringify(tenant)}`,
    { details: { tenant, name } },
  );
}

export function namedSecretAlreadyExists(tenant: string, name: string): HeraldError {
  return new HeraldError(
    "secret.already_exists",
    `Secret ${JSON.stringify(name)} already exists in tenant ${JSON.stringify(tenant)}`,
    { details: { tenant, name } },
  );
}
