// NATS tokens on the wire (`herald nats token … --json`, `/v1/nats-tokens`): the create body and
// the list filters, and the token record, never its secret nor its hash, with its state at the
// time it is shown.

import { DEFAULT_TENANT } from "@heraldjs/core/internal/model/constants.js";
import {
  MAX_NATS_SUBJECT_TOKEN,
  MAX_NATS_TOKEN_TTL_S,
  NATS_IDENTITIES,
  type NatsTokenRecord,
  natsTokenRefusal,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { z } from "zod";

/** Longest lifetime `POST /v1/nats-tokens` gives a token: ten years (omitted: no expiry). */
export const MAX_NATS_TOKEN_EXPIRES_IN_S = MAX_NATS_TOKEN_TTL_S;

/** One NATS subject token, as natsTokenRecords.ts checks it: no dots, wildcards or spaces. */
const subjectTokenSchema = z
  .string()
  .regex(new RegExp(`^[A-Za-z0-9_-]{1,${MAX_NATS_SUBJECT_TOKEN}}$`), {
    error: `must be 1–${MAX_NATS_SUBJECT_TOKEN} letters, digits, '_' or '-'`,
  });

const identitySchema = z
  .enum(NATS_IDENTITIES)
  .describe("Who connects: agent.compute, agent.storage, agent.network, client or service");

/**
 * The body of `POST /v1/nats-tokens`. Its shape is checked here (400 `request.invalid`); what
 * depends on the identity (an agent's id is a lowercase UUID, a client needs a tenant) is
 * checked by the route and mintNatsToken (400 `nats_token.invalid`), as for the CLI.
 */
export const wireNatsTokenCreateSchema = z.strictObject({
  identity: identitySchema,
  id: subjectTokenSchema.describe(
    "The agent's lowercase UUID, the client's user id or the service's name",
  ),
  tenant: subjectTokenSchema
    .optional()
    .describe(`The tenant (required for client); default ${DEFAULT_TENANT}`),
  expires_in_s: z
    .int()
    .min(1)
    .max(MAX_NATS_TOKEN_EXPIRES_IN_S)
    .optional()
    .describe(
      `Lifetime in seconds, at most ${MAX_NATS_TOKEN_EXPIRES_IN_S} (ten years); omitted: the token lasts until revoked`,
    ),
});

export type WireNatsTokenCreate = z.output<typeof wireNatsTokenCreateSchema>;

/** The filters of `GET /v1/nats-tokens`: every one given must match. */
export const wireNatsTokenListQuery = z.object({
  tenant: subjectTokenSchema.optional().describe("Only this tenant's"),
  identity: identitySchema.optional().describe("Only this identity's"),
  id: subjectTokenSchema.optional().describe("Only those of this agent, user or service"),
});

/** A token as listed: never the token, nor its hash. */
export const natsTokenShape = z.object({
  id: z.string().describe("ntk_<ULID>"),
  identity: z.string().describe("agent.compute, agent.storage, agent.network, client or service"),
  subject_id: z.string().describe("The agent's UUID, the client's user id or the service's name"),
  tenant: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable().describe("null: it does not expire"),
  revoked_at: z.string().nullable(),
  state: z.enum(["live", "expired", "revoked"]),
});

export const mintedNatsTokenShape = natsTokenShape.extend({
  token: z.string().describe("The token: shown once, never again"),
});

export type NatsTokenWire = z.infer<typeof natsTokenShape>;
export type NatsTokenState = NatsTokenWire["state"];

/** live, or why the token no longer lets its holder connect at `nowIso`. */
export function natsTokenState(record: NatsTokenRecord, nowIso: string): NatsTokenState {
  return natsTokenRefusal(record, nowIso) ?? "live";
}

export function natsTokenToWire(record: NatsTokenRecord, nowIso: string): NatsTokenWire {
  return {
    id: record.id,
    identity: record.identity,
    subject_id: record.subjectId,
    tenant: record.tenant,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    revoked_at: record.revokedAt,
    state: natsTokenState(record, nowIso),
  };
}
