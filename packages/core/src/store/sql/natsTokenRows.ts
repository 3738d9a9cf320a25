// NATS tokens ↔ SQL rows for both dialects, through the dialect's codec (deliveryRows.ts).
import type { NatsIdentity, NatsTokenRecord } from "../deliveryPorts.js";
import type { ROW_CODECS, Row } from "./deliveryRows.js";

type RowCodec = (typeof ROW_CODECS)[keyof typeof ROW_CODECS];

export interface NatsTokenRows {
  params(t: NatsTokenRecord): Row;
  record(r: Row): NatsTokenRecord;
}

export function natsTokenRows(c: RowCodec): NatsTokenRows {
  const timeOrNull = (value: unknown) => (value === null ? null : c.fromTime(value));
  return {
    params: (t) => ({
      id: t.id,
      identity: t.identity,
      subject_id: t.subjectId,
      tenant: t.tenant,
      token_hash: t.tokenHash,
      created_at: c.time(t.createdAt),
      expires_at: t.expiresAt === null ? null : c.time(t.expiresAt),
      revoked_at: t.revokedAt === null ? null : c.time(t.revokedAt),
    }),
    record: (r) => ({
      id: r.id as string,
      identity: r.identity as NatsIdentity,
      subjectId: r.subject_id as string,
      tenant: r.tenant as string,
      tokenHash: r.token_hash as string,
      createdAt: c.fromTime(r.created_at),
      expiresAt: timeOrNull(r.expires_at),
      revokedAt: timeOrNull(r.revoked_at),
    }),
  };
}
