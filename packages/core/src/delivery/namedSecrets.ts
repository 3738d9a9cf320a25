// Named secrets in the delivery engine: rotation (the endpoints' rule, endpointSecrets.ts) and
// what an endpoint naming one signs with, resolved at every attempt so that a rotation, or a
// deletion, applies to deliveries already queued.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { EndpointRecord, NamedSecretRecord } from "../model/deliveryRecords.js";
import { namedSecretNotFound } from "../model/namedSecretRecords.js";
import { checkOverlapMs, rotatedSecrets } from "../model/secretRotation.js";
import type { NamedSecretStore } from "../store/deliveryPorts.js";
import { DEFAULT_SECRET_OVERLAP_MS } from "./endpointSecrets.js";
import { schemeSpecFor } from "./transports/signingHeaders.js";

export interface RotateNamedSecretOptions {
  /** The new value; default a new one generated for the secret's scheme. */
  secret?: string;
  /** How long the previous values keep signing; default 24 h. */
  overlapMs?: number;
  clock?: Clock;
}

export interface RotateNamedSecretResult {
  /** The new (current) value. */
  secret: string;
  /** The named secret as stored after the rotation. */
  record: NamedSecretRecord;
}

/**
 * Makes a new value the named secret's current one; the previous ones keep signing until
 * `now + overlapMs` (rotatedSecrets). Throws `secret.not_found`, `config.invalid` (overlapMs).
 */
export async function rotateNamedSecret(
  store: Pick<NamedSecretStore, "getNamedSecret" | "updateNamedSecretVersions">,
  tenant: string,
  name: string,
  options: RotateNamedSecretOptions = {},
): Promise<RotateNamedSecretResult> {
  const { clock = systemClock } = options;
  const overlapMs = checkOverlapMs(options.overlapMs ?? DEFAULT_SECRET_OVERLAP_MS);
  const existing = await store.getNamedSecret(tenant, name);
  if (existing === undefined) throw namedSecretNotFound(tenant, name);
  const secret = options.secret ?? generateSecret(schemeSpecFor(existing));
  const versions = rotatedSecrets(existing.secrets, secret, clock.now(), overlapMs);
  const record = await store.updateNamedSecretVersions(tenant, name, versions);
  return { secret, record };
}

/**
 * The endpoint as it signs now: with its named secret's values and scheme when it names one
 * (read at every attempt), else as it is. Throws `secret.not_found` when that secret is gone.
 */
export async function withNamedSecret(
  store: Pick<NamedSecretStore, "getNamedSecret">,
  endpoint: EndpointRecord,
): Promise<EndpointRecord> {
  if (endpoint.secretName === null) return endpoint;
  const named = await store.getNamedSecret(endpoint.tenant, endpoint.secretName);
  if (named === undefined) throw namedSecretNotFound(endpoint.tenant, endpoint.secretName);
  return {
    ...endpoint,
    scheme: named.scheme,
    schemeOptions: named.schemeOptions,
    secrets: named.secrets,
  };
}
