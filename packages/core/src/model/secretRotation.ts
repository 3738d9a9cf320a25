// The one rotation rule of endpoint secrets and named secrets: the new secret signs at once, the
// old ones keep signing until their overlap ends, so receivers can switch over.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { EndpointSecret, EndpointSecretInput } from "./deliveryRecords.js";

/** Throws `config.invalid` unless `overlapMs` is a finite number ≥ 0. */
export function checkOverlapMs(overlapMs: unknown): number {
  if (typeof overlapMs !== "number" || !Number.isFinite(overlapMs) || overlapMs < 0) {
    throw new HeraldError("config.invalid", "overlapMs must be a finite number >= 0");
  }
  return overlapMs;
}

/**
 * The secrets after making `secret` the current one at `nowMs` (first, no expiry): every
 * unexpired previous secret expires at `min(its expiry, now + overlapMs)`; already-expired ones
 * are dropped. The one rotation rule of endpoints and named secrets.
 */
export function rotatedSecrets(
  existing: readonly EndpointSecret[],
  secret: string,
  nowMs: number,
  overlapMs: number,
): EndpointSecretInput[] {
  const overlapEnd = nowMs + overlapMs;
  const kept: EndpointSecretInput[] = [];
  for (const old of existing) {
    const expiresMs = old.expiresAt === null ? null : Date.parse(old.expiresAt);
    if (expiresMs !== null && expiresMs <= nowMs) continue; // already expired: dropped
    if (old.secret === secret) continue; // re-rotating to the same secret keeps one copy
    kept.push({
      secret: old.secret,
      expiresAt: new Date(Math.min(expiresMs ?? overlapEnd, overlapEnd)).toISOString(),
      createdAt: old.createdAt,
    });
  }
  return [{ secret, expiresAt: null, createdAt: new Date(nowMs).toISOString() }, ...kept];
}
