// NATS tokens on the wire (`herald nats token … --json`): the token record, never its secret nor
// its hash, with its state at the time it is shown.

import {
  type NatsTokenRecord,
  natsTokenRefusal,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { z } from "zod";

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
