// Endpoint secret rotation: the new secret signs at once, the old ones keep signing until their
// overlap ends, so receivers can switch over (both signatures are sent meanwhile).
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { EndpointRecord } from "../model/deliveryRecords.js";
import { checkOverlapMs, rotatedSecrets } from "../model/secretRotation.js";
import type { DeliveryStore } from "../store/deliveryPorts.js";
import { schemeSpecFor } from "./transports/signingHeaders.js";

/** How long a rotated-out secret keeps signing by default: 24 h. */
export const DEFAULT_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface RotateEndpointSecretOptions {
  /** The new secret; default `generateSecret(endpoint.scheme)`. */
  secret?: string;
  /** How long the previous secrets keep signing; default 24 h. */
  overlapMs?: number;
  clock?: Clock;
}

export interface RotateEndpointSecretResult {
  /** The new (current) secret. */
  secret: string;
  /** The endpoint as stored after the rotation. */
  endpoint: EndpointRecord;
}

/**
 * Makes a new secret the endpoint's current one (rotatedSecrets). Throws `endpoint.not_found`
 * for an unknown id, `config.invalid` for a bad `overlapMs`.
 */
export async function rotateEndpointSecret(
  store: Pick<DeliveryStore, "getEndpoint" | "updateEndpoint">,
  endpointId: string,
  options: RotateEndpointSecretOptions = {},
): Promise<RotateEndpointSecretResult> {
  const { clock = systemClock } = options;
  const overlapMs = checkOverlapMs(options.overlapMs ?? DEFAULT_SECRET_OVERLAP_MS);
  const existing = await store.getEndpoint(endpointId);
  if (existing === undefined) {
    throw new HeraldError("endpoint.not_found", `No endpoint ${JSON.stringify(endpointId)}`, {
      details: { id: endpointId },
    });
  }
  const secret = options.secret ?? generateSecret(schemeSpecFor(existing));
  const endpoint = await store.updateEndpoint(endpointId, {
    secrets: rotatedSecrets(existing.secrets, secret, clock.now(), overlapMs),
  });
  return { secret, endpoint };
}
