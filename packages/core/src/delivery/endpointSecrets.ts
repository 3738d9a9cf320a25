// Endpoint secret rotation: the new secret signs at once, the old ones keep signing until their
// overlap ends, so receivers can switch over (both signatures are sent meanwhile).
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { EndpointRecord, EndpointSecretInput } from "../model/deliveryRecords.js";
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
 * Makes a new secret the endpoint's current one (first, no expiry). Every unexpired previous
 * secret expires at `min(its expiry, now + overlapMs)`; already-expired ones are dropped.
 * Throws `endpoint.not_found` for an unknown id, `config.invalid` for a bad `overlapMs`.
 */
export async function rotateEndpointSecret(
  store: Pick<DeliveryStore, "getEndpoint" | "updateEndpoint">,
  endpointId: string,
  options: RotateEndpointSecretOptions = {},
): Promise<RotateEndpointSecretResult> {
  const { overlapMs = DEFAULT_SECRET_OVERLAP_MS, clock = systemClock } = options;
  if (typeof overlapMs !== "number" || !Number.isFinite(overlapMs) || overlapMs < 0) {
    throw new HeraldError("config.invalid", "overlapMs must be a finite number >= 0");
  }
  const existing = await store.getEndpoint(endpointId);
  if (existing === undefined) {
    throw new HeraldError("endpoint.not_found", `No endpoint ${JSON.stringify(endpointId)}`, {
      details: { id: endpointId },
    });
  }
  const secret = options.secret ?? generateSecret(schemeSpecFor(existing));
  const nowMs = clock.now();
  const overlapEnd = nowMs + overlapMs;
  const kept: EndpointSecretInput[] = [];
  for (const old of existing.secrets) {
    const expiresMs = old.expiresAt === null ? null : Date.parse(old.expiresAt);
    if (expiresMs !== null && expiresMs <= nowMs) continue; // already expired: dropped
    if (old.secret === secret) continue; // re-rotating to the same secret keeps one copy
    kept.push({
      secret: old.secret,
      expiresAt: new Date(Math.min(expiresMs ?? overlapEnd, overlapEnd)).toISOString(),
      createdAt: old.createdAt,
    });
  }
  const endpoint = await store.updateEndpoint(endpointId, {
    secrets: [{ secret, expiresAt: null, createdAt: new Date(nowMs).toISOString() }, ...kept],
  });
  return { secret, endpoint };
}
