// Named secrets ↔ SQL rows for both dialects, through the dialect's codec (deliveryRows.ts).
import type { NamedSecretRecord } from "../deliveryPorts.js";
import type { ROW_CODECS, Row } from "./deliveryRows.js";

type RowCodec = (typeof ROW_CODECS)[keyof typeof ROW_CODECS];

export interface NamedSecretRows {
  params(s: NamedSecretRecord): Row;
  record(r: Row): NamedSecretRecord;
}

export function namedSecretRows(c: RowCodec): NamedSecretRows {
  return {
    params: (s) => ({
      tenant: s.tenant,
      name: s.name,
      scheme: s.scheme,
      scheme_options: s.schemeOptions === null ? null : c.json(s.schemeOptions),
      secrets: c.json(s.secrets),
      created_at: c.time(s.createdAt),
      updated_at: c.time(s.updatedAt),
    }),
    record: (r) => ({
      tenant: r.tenant as string,
      name: r.name as string,
      scheme: r.scheme as string,
      schemeOptions:
        r.scheme_options === null
          ? null
          : (c.fromJson(r.scheme_options) as NamedSecretRecord["schemeOptions"]),
      secrets: c.fromJson(r.secrets) as NamedSecretRecord["secrets"],
      createdAt: c.fromTime(r.created_at),
      updatedAt: c.fromTime(r.updated_at),
    }),
  };
}
