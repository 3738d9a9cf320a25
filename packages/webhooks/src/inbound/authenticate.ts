// The inbound pipeline's first stages, shared by the receiver and the service's ingestion: the
// signature on the exact bytes, then the delivery's identity (the one dedupe rule, dedupeKey.ts).
import { verifyWebhook } from "../signing/sign.js";
import type { HeaderReader, HeadersLike, VerifyFailure, WebhookScheme } from "../signing/types.js";
import { type DedupeIdentity, dedupeIdentity } from "./dedupeKey.js";

export interface InboundRequest {
  scheme: WebhookScheme;
  secrets: string | readonly string[];
  headers: HeadersLike;
  /** Case-insensitive lookup over `headers` (lowercase names). */
  header: HeaderReader;
  /** The raw body, exactly as received. */
  body: Uint8Array;
  /** The time to check a signed timestamp against, in milliseconds since the epoch. */
  now: number;
  /** When the request was received, if it is verified later (after a queue). */
  receivedAt?: Date | number;
  toleranceSeconds: number;
  url?: string;
  /** The header carrying the sender's idempotency key, if one is configured. */
  idempotencyHeader?: string | null;
}

export interface AuthenticDelivery {
  ok: true;
  identity: DedupeIdentity;
  /** The signed timestamp in Unix seconds, for schemes that sign one. */
  timestamp?: number;
}

/**
 * Verifies the signature, then names the delivery. A failure is the verification's (its code
 * and message); throws only when verification cannot run at all (a misconfigured scheme).
 */
export function authenticate(request: InboundRequest): AuthenticDelivery | VerifyFailure {
  const { scheme, header, body } = request;
  const verified = verifyWebhook({
    scheme,
    secrets: request.secrets,
    headers: request.headers,
    body,
    now: request.now,
    receivedAt: request.receivedAt,
    toleranceSeconds: request.toleranceSeconds,
    url: request.url,
  });
  if (!verified.ok) return verified;
  const identity = dedupeIdentity({
    scheme,
    verifiedId: verified.id,
    idempotencyHeader: request.idempotencyHeader,
    header,
    body,
  });
  return verified.timestamp === undefined
    ? { ok: true, identity }
    : { ok: true, identity, timestamp: verified.timestamp };
}
