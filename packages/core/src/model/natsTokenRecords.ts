// NATS tokens: what an agent or a browser presents when it connects to nats-server, checked by
// Herald's auth callout (`herald nats auth-listen`). Built and checked once here so every adapter
// stores the same; the token itself is never stored, only its SHA-256.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { invalid } from "./check.js";
import { DEFAULT_TENANT } from "./constants.js";
import type { TimeInput } from "./deliveryRecords.js";
import { toIso } from "./time.js";

const CODE = "nats_token.invalid";

/**
 * Who a token lets connect. An agent (`agent.compute`, `agent.storage`, `agent.network`) gets its
 * own command and event subjects; a `client` (a browser) reads its tenant's live events; a
 * `service` (Herald's own processes: `herald nats listen`, the nats-core transport) may publish
 * and subscribe anywhere in the application account.
 */
export const NATS_IDENTITIES = [
  "agent.compute",
  "agent.storage",
  "agent.network",
  "client",
  "service",
] as const;
export type NatsIdentity = (typeof NATS_IDENTITIES)[number];

/** The agent kinds, as they appear in subjects (`agent.{kind}.{id}.cmd`). */
export const NATS_AGENT_KINDS = ["compute", "storage", "network"] as const;
export type NatsAgentKind = (typeof NATS_AGENT_KINDS)[number];

/** Longest lifetime a token may be given: ten years (none at all: no expiry). */
export const MAX_NATS_TOKEN_TTL_S = 3_650 * 86_400;

/** Longest id or tenant a subject can carry here. */
export const MAX_NATS_SUBJECT_TOKEN = 128;
/**
 * One subject token: no dots, wildcards or whitespace, so an id can never widen a permission
 * (`agent.compute.>` from an id of `>`).
 */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;

/** A NATS token as stored: never the token itself, only its SHA-256 (hex). */
export interface NatsTokenRecord {
  /** `ntk_<ULID>`: what `token list` shows and `token revoke` takes. */
  id: string;
  identity: NatsIdentity;
  /** The agent's UUID, the client's user id, or the service's name: one subject token. */
  subjectId: string;
  /** The tenant whose `client.{tenant}.…` subjects a client reads; `default` unless given. */
  tenant: string;
  /** SHA-256 of the token, lowercase hex. */
  tokenHash: string;
  createdAt: string;
  /** Null: it does not expire (it lasts until revoked). */
  expiresAt: string | null;
  /** When it was revoked; null while it is not. */
  revokedAt: string | null;
}

export interface NatsTokenInput {
  id: string;
  identity: NatsIdentity;
  subjectId: string;
  tenant?: string;
  tokenHash: string;
  /** Omitted or null: the token does not expire. */
  expiresAt?: TimeInput | null;
}

export interface NatsTokenListOptions {
  tenant?: string;
  identity?: NatsIdentity;
  subjectId?: string;
}

/** Whether `value` can stand as one NATS subject token (an id, a tenant). */
export function isNatsSubjectToken(value: unknown): value is string {
  return typeof value === "string" && SUBJECT_TOKEN.test(value);
}

export function isNatsIdentity(value: unknown): value is NatsIdentity {
  return typeof value === "string" && (NATS_IDENTITIES as readonly string[]).includes(value);
}

/** The agent kind of an agent identity (`agent.compute` → `compute`); undefined for others. */
export function natsAgentKind(identity: NatsIdentity): NatsAgentKind | undefined {
  return identity.startsWith("agent.") ? (identity.slice(6) as NatsAgentKind) : undefined;
}

/** The id an identity takes: an agent's is a lowercase UUID; others are one subject token. */
export function checkNatsSubjectId(identity: NatsIdentity, value: unknown): string {
  if (natsAgentKind(identity) !== undefined) {
    if (typeof value !== "string" || !UUID.test(value)) {
      throw invalid(CODE, "id", "must be a lowercase UUID for an agent");
    }
    return value;
  }
  if (!isNatsSubjectToken(value)) {
    throw invalid(CODE, "id", "must be 1–128 letters, digits, '_' or '-'");
  }
  return value;
}

/** The record a create stores; throws `nats_token.invalid` naming the field. */
export function newNatsTokenRecord(input: NatsTokenInput, nowIso: string): NatsTokenRecord {
  if (!isPlainObject(input)) throw invalid(CODE, "natsToken", "must be an object");
  if (typeof input.id !== "string" || !/^ntk_[0-9A-Z]{26}$/.test(input.id)) {
    throw invalid(CODE, "id", "must be ntk_<ULID>");
  }
  if (!isNatsIdentity(input.identity)) {
    throw invalid(CODE, "identity", `must be one of ${NATS_IDENTITIES.join(", ")}`);
  }
  const subjectId = checkNatsSubjectId(input.identity, input.subjectId);
  const tenant = input.tenant ?? DEFAULT_TENANT;
  if (!isNatsSubjectToken(tenant)) {
    throw invalid(CODE, "tenant", "must be 1–128 letters, digits, '_' or '-'");
  }
  if (typeof input.tokenHash !== "string" || !HASH.test(input.tokenHash)) {
    throw invalid(CODE, "tokenHash", "must be a SHA-256 in lowercase hex");
  }
  let expiresAt: string | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = toIso(input.expiresAt, "expiresAt", CODE);
    if (expiresAt <= nowIso) throw invalid(CODE, "expiresAt", "must be in the future");
  }
  return {
    id: input.id,
    identity: input.identity,
    subjectId,
    tenant,
    tokenHash: input.tokenHash,
    createdAt: nowIso,
    expiresAt,
    revokedAt: null,
  };
}

/** Why a token does not let its holder connect at `nowIso`; undefined while it does. */
export function natsTokenRefusal(
  record: NatsTokenRecord,
  nowIso: string,
): "revoked" | "expired" | undefined {
  if (record.revokedAt !== null) return "revoked";
  if (record.expiresAt !== null && record.expiresAt <= nowIso) return "expired";
  return undefined;
}

/** The record revoked at `nowIso`; a revoked one keeps its first revocation time. */
export function revokedNatsToken(record: NatsTokenRecord, nowIso: string): NatsTokenRecord {
  return record.revokedAt === null ? { ...record, revokedAt: nowIso } : record;
}

export function natsTokenNotFound(id: string): HeraldError {
  return new HeraldError("nats_token.not_found", `No NATS token ${JSON.stringify(id)}`, {
    details: { id },
  });
}
