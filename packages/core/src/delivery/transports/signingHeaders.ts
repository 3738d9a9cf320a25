// Which secrets sign an attempt (rotation) and the scheme's headers for it.

import type { HmacSchemeSpec, SchemeSpec } from "@heraldjs/webhooks/internal/signing/registry.js";
import { signWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { EndpointRecord, EndpointSecret } from "../../model/deliveryRecords.js";

/**
 * Every secret that has not expired at `nowMs`, newest first: during a rotation the new and
 * the old secret both sign, so receivers can switch over at their own pace.
 */
function activeSecrets(secrets: readonly EndpointSecret[], nowMs: number): string[] {
  // The usual endpoint: one secret that never expires.
  if (secrets.length === 1 && secrets[0]?.expiresAt === null) return [secrets[0].secret];
  return secrets
    .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > nowMs)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
    .map((s) => s.secret);
}

// hmac specs are compiled once per options object (registry WeakMap); endpoint records are
// re-read per attempt, so identical options share one spec object here.
const hmacSpecs = new Map<string, HmacSchemeSpec>();
const MAX_CACHED_SPECS = 256;

export function schemeSpecFor(
  endpoint: Pick<EndpointRecord, "scheme" | "schemeOptions">,
): SchemeSpec {
  if (endpoint.scheme !== "hmac") return endpoint.scheme as SchemeSpec;
  const key = JSON.stringify(endpoint.schemeOptions ?? {});
  let spec = hmacSpecs.get(key);
  if (spec === undefined) {
    if (hmacSpecs.size >= MAX_CACHED_SPECS) hmacSpecs.clear();
    spec = { ...(endpoint.schemeOptions ?? {}), name: "hmac" } as HmacSchemeSpec;
    hmacSpecs.set(key, spec);
  }
  return spec;
}

interface SigningInput {
  endpoint: EndpointRecord;
  /** The message id: `webhook-id` (and the signed id), stable across retries and replays. */
  messageId: string;
  body: Uint8Array;
  /** Attempt time in ms; the signed timestamp is its whole seconds. */
  nowMs: number;
}

/** The scheme's headers (signature, timestamp, id); throws `secret.missing` when no secret is active. */
export function signingHeaders({
  endpoint,
  messageId,
  body,
  nowMs,
}: SigningInput): Record<string, string> {
  return signWebhook({
    scheme: schemeSpecFor(endpoint),
    secret: activeSecrets(endpoint.secrets, nowMs),
    body,
    id: messageId,
    timestamp: Math.floor(nowMs / 1000),
    url: endpoint.target,
  });
}
