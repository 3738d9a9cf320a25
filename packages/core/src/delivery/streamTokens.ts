// Stream tokens in the delivery engine: minting one (a random secret shown once, stored as its
// SHA-256 only) and checking a presented one, in constant time, against the stored hash.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { newId } from "../core/ids.js";
import {
  DEFAULT_STREAM_TOKEN_TTL_S,
  isStreamTokenLive,
  MAX_STREAM_TOKEN_TTL_S,
  type StreamTokenRecord,
} from "../model/streamRecords.js";
import { isoNow } from "../model/time.js";
import type { StreamStore } from "../store/deliveryPorts.js";

/** What every stream token starts with (Herald stream token), so scanners can spot a leaked one. */
export const STREAM_TOKEN_PREFIX = "hst_";
const TOKEN = /^hst_[A-Za-z0-9_-]{43}$/;

export interface MintStreamTokenInput {
  /** Default `default`. */
  tenant?: string;
  eventTypes: readonly string[];
  /** Lifetime in seconds, 1–MAX_STREAM_TOKEN_TTL_S; default DEFAULT_STREAM_TOKEN_TTL_S. */
  ttlS?: number;
}

export interface MintedStreamToken {
  /** The secret a client presents; not stored, so never shown again. */
  token: string;
  record: StreamTokenRecord;
}

/** SHA-256 of a token, lowercase hex: what the store keeps and looks tokens up by. */
export function streamTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Creates a token; throws `stream_token.invalid` for a bad tenant, pattern or lifetime. */
export async function mintStreamToken(
  store: Pick<StreamStore, "createStreamToken">,
  input: MintStreamTokenInput,
  options: { clock?: Clock } = {},
): Promise<MintedStreamToken> {
  const clock = options.clock ?? systemClock;
  const ttlS = input.ttlS ?? DEFAULT_STREAM_TOKEN_TTL_S;
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_STREAM_TOKEN_TTL_S) {
    throw new HeraldError(
      "stream_token.invalid",
      `ttl_s must be a whole number of seconds from 1 to ${MAX_STREAM_TOKEN_TTL_S}`,
      { details: { field: "ttl_s" } },
    );
  }
  const token = `${STREAM_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const record = await store.createStreamToken({
    id: newId("stk", { clock }),
    ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
    eventTypes: input.eventTypes,
    tokenHash: streamTokenHash(token),
    expiresAt: clock.now() + ttlS * 1000,
  });
  return { token, record };
}

/** The one refusal of every bad token: it never says which check failed, nor repeats the token. */
export function streamTokenRefused(): HeraldError {
  return new HeraldError(
    "stream_token.invalid",
    "The stream token is missing, unknown, expired or revoked",
  );
}

/**
 * The live token record a presented token names; throws `stream_token.invalid` (unknown,
 * malformed, expired, revoked: one message for all) or `store.unavailable`.
 */
export async function authenticateStreamToken(
  store: Pick<StreamStore, "findStreamToken">,
  token: string | undefined,
  options: { clock?: Clock } = {},
): Promise<StreamTokenRecord> {
  if (token === undefined || !TOKEN.test(token)) throw streamTokenRefused();
  const hash = streamTokenHash(token);
  const record = await store.findStreamToken(hash);
  // The lookup found the row by its hash; the constant-time comparison is what decides.
  const matches =
    record !== undefined &&
    timingSafeEqual(Buffer.from(record.tokenHash, "hex"), Buffer.from(hash, "hex"));
  if (!matches || !isStreamTokenLive(record, isoNow(options.clock ?? systemClock))) {
    throw streamTokenRefused();
  }
  return record;
}
