// NATS tokens: minting one (a random secret shown once, stored as its SHA-256 only) and checking
// a presented one, in constant time, against the stored hash — what the auth callout asks.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { newId } from "../core/ids.js";
import {
  MAX_NATS_TOKEN_TTL_S,
  type NatsIdentity,
  type NatsTokenRecord,
  natsTokenNotFound,
  natsTokenRefusal,
} from "../model/natsTokenRecords.js";
import { isoNow } from "../model/time.js";
import type { NatsTokenStore } from "../store/deliveryPorts.js";

/** What every NATS token starts with (Herald NATS token), so scanners can spot a leaked one. */
export const NATS_TOKEN_PREFIX = "hnt_";
const TOKEN = /^hnt_[A-Za-z0-9_-]{43}$/;

export interface MintNatsTokenInput {
  identity: NatsIdentity;
  /** The agent's UUID, the client's user id or the service's name. */
  id: string;
  /** Default `default`. */
  tenant?: string;
  /** Lifetime in seconds; omitted: the token lasts until revoked. */
  ttlS?: number;
}

export interface MintedNatsToken {
  /** The secret the agent or browser presents; not stored, so never shown again. */
  token: string;
  record: NatsTokenRecord;
}

/** SHA-256 of a token, lowercase hex: what the store keeps and looks tokens up by. */
export function natsTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Creates a token; throws `nats_token.invalid` for a bad identity, id, tenant or lifetime. */
export async function mintNatsToken(
  store: Pick<NatsTokenStore, "createNatsToken">,
  input: MintNatsTokenInput,
  options: { clock?: Clock } = {},
): Promise<MintedNatsToken> {
  const clock = options.clock ?? systemClock;
  const { ttlS } = input;
  if (
    ttlS !== undefined &&
    (!Number.isSafeInteger(ttlS) || ttlS < 1 || ttlS > MAX_NATS_TOKEN_TTL_S)
  ) {
    throw new HeraldError(
      "nats_token.invalid",
      `expires must be a whole number of seconds from 1 to ${MAX_NATS_TOKEN_TTL_S} (ten years)`,
      {
        details: { field: "expires" },
      },
    );
  }
  const token = `${NATS_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const record = await store.createNatsToken({
    id: newId("ntk", { clock }),
    identity: input.identity,
    subjectId: input.id,
    ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
    tokenHash: natsTokenHash(token),
    expiresAt: ttlS === undefined ? null : clock.now() + ttlS * 1000,
  });
  return { token, record };
}

/** Why a presented token was refused: the reason code logged and counted by the auth callout. */
export type NatsTokenRefusalReason = "missing" | "malformed" | "unknown" | "expired" | "revoked";

export type NatsTokenCheck =
  | { ok: true; record: NatsTokenRecord }
  | {
      ok: false;
      reason: NatsTokenRefusalReason;
      /** The refused token's id, when it exists (expired, revoked). */
      tokenId?: string;
    };

/**
 * Checks a presented token: the live record it names, or why it was refused. Throws only
 * `store.unavailable` (the callout then answers nothing, and the connection fails).
 */
export async function checkNatsToken(
  store: Pick<NatsTokenStore, "findNatsToken">,
  token: string | undefined,
  options: { clock?: Clock } = {},
): Promise<NatsTokenCheck> {
  if (token === undefined || token === "") return { ok: false, reason: "missing" };
  if (!TOKEN.test(token)) return { ok: false, reason: "malformed" };
  const hash = natsTokenHash(token);
  const record = await store.findNatsToken(hash);
  // The lookup found the row by its hash; the constant-time comparison is what decides.
  const matches =
    record !== undefined &&
    timingSafeEqual(Buffer.from(record.tokenHash, "hex"), Buffer.from(hash, "hex"));
  if (!matches) return { ok: false, reason: "unknown" };
  const refusal = natsTokenRefusal(record, isoNow(options.clock ?? systemClock));
  return refusal === undefined
    ? { ok: true, record }
    : { ok: false, reason: refusal, tokenId: record.id };
}

/** Revokes a token by id; throws `nats_token.not_found`. */
export async function revokeNatsToken(
  store: Pick<NatsTokenStore, "revokeNatsToken">,
  id: string,
): Promise<NatsTokenRecord> {
  const record = await store.revokeNatsToken(id);
  if (record === undefined) throw natsTokenNotFound(id);
  return record;
}
