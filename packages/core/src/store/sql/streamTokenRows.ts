// Stream tokens ↔ SQL rows for both dialects, through the dialect's codec (deliveryRows.ts).
import type { StreamTokenRecord } from "../deliveryPorts.js";
import type { ROW_CODECS, Row } from "./deliveryRows.js";

type RowCodec = (typeof ROW_CODECS)[keyof typeof ROW_CODECS];

export interface StreamTokenRows {
  params(t: StreamTokenRecord): Row;
  record(r: Row): StreamTokenRecord;
}

export function streamTokenRows(c: RowCodec): StreamTokenRows {
  return {
    params: (t) => ({
      id: t.id,
      tenant: t.tenant,
      event_types: c.json(t.eventTypes),
      token_hash: t.tokenHash,
      created_at: c.time(t.createdAt),
      expires_at: c.time(t.expiresAt),
      revoked_at: t.revokedAt === null ? null : c.time(t.revokedAt),
    }),
    record: (r) => ({
      id: r.id as string,
      tenant: r.tenant as string,
      eventTypes: c.fromJson(r.event_types) as string[],
      tokenHash: r.token_hash as string,
      createdAt: c.fromTime(r.created_at),
      expiresAt: c.fromTime(r.expires_at),
      revokedAt: r.revoked_at === null ? null : c.fromTime(r.revoked_at),
    }),
  };
}
