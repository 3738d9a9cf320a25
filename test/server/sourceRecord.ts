// A stored source as the store answers it, for tests of what reads sources (the source cache,
// the ingestor): every field at its default but the scheme and those given.
import type { SourceRecord } from "../../packages/core/src/store/deliveryPorts.js";

const CREATED = "2026-01-01T00:00:00.000Z";

export function sourceRecord(
  fields: Partial<SourceRecord> & Pick<SourceRecord, "scheme">,
): SourceRecord {
  return {
    name: "src",
    schemeOptions: null,
    secrets: [],
    toleranceS: 300,
    idempotencyHeader: null,
    idempotencyRequired: false,
    dedupeTtlS: 60,
    typeFrom: { fixed: "received" },
    allowFrom: [],
    createdAt: CREATED,
    updatedAt: CREATED,
    ...fields,
  };
}
