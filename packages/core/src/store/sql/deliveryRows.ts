// Records ↔ SQL rows for both dialects. Column names are the same everywhere; only the value
// forms differ, and those differences live in one table (ROW_CODECS), not in each adapter.
import { isoTime } from "../../core/isoTime.js";
import { type EndpointFilter, parseEndpointFilter } from "../../model/endpointFilter.js";
import type {
  AttemptRecord,
  DeliveryRecord,
  EndpointRecord,
  EventTypeRecord,
  FilteredRecord,
  MessageRecord,
  SourceRecord,
} from "../deliveryPorts.js";

/** A row as a driver returns it, or the parameters of an INSERT/UPDATE (column → value). */
export type Row = Record<string, unknown>;

interface RowCodec {
  /** ISO 8601 record time → column value. */
  time(iso: string): unknown;
  /** Column value → ISO 8601 record time. */
  fromTime(value: unknown): string;
  bool(value: boolean): unknown;
  fromBool(value: unknown): boolean;
  json(value: unknown): unknown;
  fromJson(value: unknown): unknown;
}

// The last few ms → ISO conversions of the SQLite codec, by the low bits of the value: a worker
// reads the same few instants over and over (a claim's lease end and `now` on every row, a
// delivery's lease end twice), and each conversion is a Date and a string.
const ISO_MEMO_SIZE = 8;
const memoMs = new Float64Array(ISO_MEMO_SIZE).fill(Number.NaN);
const memoIso: string[] = new Array<string>(ISO_MEMO_SIZE).fill("");

function isoOfMs(ms: number): string {
  const slot = ms & (ISO_MEMO_SIZE - 1);
  if (memoMs[slot] === ms) return memoIso[slot]!;
  const iso = isoTime(ms);
  memoMs[slot] = ms;
  memoIso[slot] = iso;
  return iso;
}

export const ROW_CODECS = {
  /** INTEGER Unix ms, 0/1, JSON text. */
  sqlite: {
    time: (iso) => Date.parse(iso),
    fromTime: (value) => isoOfMs(value as number),
    bool: (value) => (value ? 1 : 0),
    fromBool: (value) => value === 1,
    json: (value) => JSON.stringify(value),
    fromJson: (value) => JSON.parse(value as string),
  },
  /**
   * timestamptz (node-postgres returns a Date, with the millisecond precision we write),
   * boolean, jsonb (sent as JSON text: node-postgres would turn a JS array into a SQL array).
   */
  postgres: {
    time: (iso) => iso,
    fromTime: (value) => (value as Date).toISOString(),
    bool: (value) => value,
    fromBool: (value) => value === true,
    json: (value) => JSON.stringify(value),
    fromJson: (value) => value,
  },
} satisfies Record<string, RowCodec>;

export interface RowMapper {
  eventTypeParams(e: EventTypeRecord): Row;
  eventType(r: Row): EventTypeRecord;
  sourceParams(s: SourceRecord): Row;
  source(r: Row): SourceRecord;
  endpointParams(e: EndpointRecord): Row;
  endpoint(r: Row): EndpointRecord;
  messageParams(m: MessageRecord): Row;
  message(r: Row): MessageRecord;
  deliveryParams(d: DeliveryRecord): Row;
  delivery(r: Row): DeliveryRecord;
  attemptParams(a: AttemptRecord): Row;
  attempt(r: Row): AttemptRecord;
  filteredParams(f: FilteredRecord): Row;
  filtered(r: Row): FilteredRecord;
  time(iso: string): unknown;
  fromTime(value: unknown): string;
}

// An endpoint's filter is TEXT in both dialects (migrations 010): its canonical JSON, validated
// and compiled again on read (the column holds only what parseEndpointFilter accepted).
const filterText = (filter: EndpointFilter | null) =>
  filter === null ? null : JSON.stringify(filter.json);
const filterOf = (value: unknown) =>
  value === null || value === undefined ? null : parseEndpointFilter(JSON.parse(value as string));

export function rowMapper(c: RowCodec): RowMapper {
  const timeOrNull = (iso: string | null) => (iso === null ? null : c.time(iso));
  const fromTimeOrNull = (v: unknown) => (v === null ? null : c.fromTime(v));
  const jsonOrNull = (v: unknown) => (v === null ? null : c.json(v));
  // Parsed JSON takes the type of the record field it fills (inferred from the context).
  const fromJson = <T>(v: unknown): T => c.fromJson(v) as T;
  const fromJsonOrNull = <T>(v: unknown): T | null => (v === null ? null : fromJson<T>(v));
  // Driver values are already of the column's type; these only narrow `unknown`.
  const str = (v: unknown) => v as string;
  const strOrNull = (v: unknown) => v as string | null;
  const num = (v: unknown) => v as number;
  const numOrNull = (v: unknown) => v as number | null;

  return {
    time: c.time,
    fromTime: c.fromTime,
    // A declaration's columns: the sightings (first_seen_at, last_seen_at, seen_count) are
    // written by message writes only, so an upsert of these keeps them.
    eventTypeParams: (e) => ({
      name: e.name,
      description: e.description,
      schema: jsonOrNull(e.schema),
      deprecated: c.bool(e.deprecated),
      auto: c.bool(e.auto),
      created_at: c.time(e.createdAt),
      updated_at: c.time(e.updatedAt),
    }),
    eventType: (r) => ({
      name: str(r.name),
      description: str(r.description),
      schema: fromJsonOrNull(r.schema),
      deprecated: c.fromBool(r.deprecated),
      auto: c.fromBool(r.auto),
      firstSeenAt: fromTimeOrNull(r.first_seen_at),
      lastSeenAt: fromTimeOrNull(r.last_seen_at),
      // PostgreSQL's bigint arrives as a string.
      count: Number(r.seen_count),
      createdAt: c.fromTime(r.created_at),
      updatedAt: c.fromTime(r.updated_at),
    }),
    sourceParams: (s) => ({
      name: s.name,
      scheme: s.scheme,
      scheme_options: jsonOrNull(s.schemeOptions),
      secrets: c.json(s.secrets),
      tolerance_s: s.toleranceS,
      idempotency_header: s.idempotencyHeader,
      idempotency_required: c.bool(s.idempotencyRequired),
      dedupe_ttl_s: s.dedupeTtlS,
      type_from: c.json(s.typeFrom),
      allow_from: c.json(s.allowFrom),
      created_at: c.time(s.createdAt),
      updated_at: c.time(s.updatedAt),
    }),
    source: (r) => ({
      name: str(r.name),
      scheme: str(r.scheme),
      schemeOptions: fromJsonOrNull(r.scheme_options),
      secrets: fromJson(r.secrets),
      toleranceS: num(r.tolerance_s),
      idempotencyHeader: strOrNull(r.idempotency_header),
      idempotencyRequired: c.fromBool(r.idempotency_required),
      dedupeTtlS: num(r.dedupe_ttl_s),
      typeFrom: fromJson(r.type_from),
      allowFrom: fromJson(r.allow_from),
      createdAt: c.fromTime(r.created_at),
      updatedAt: c.fromTime(r.updated_at),
    }),
    endpointParams: (e) => ({
      id: e.id,
      tenant: e.tenant,
      description: e.description,
      transport: e.transport,
      target: e.target,
      event_types: c.json(e.eventTypes),
      filter: filterText(e.filter),
      scheme: e.scheme,
      scheme_options: jsonOrNull(e.schemeOptions),
      secrets: c.json(e.secrets),
      secret_name: e.secretName,
      adhoc: c.bool(e.adhoc),
      headers: c.json(e.headers),
      timeout_ms: e.timeoutMs,
      retry: jsonOrNull(e.retry),
      rate_limit_per_s: e.rateLimitPerS,
      max_in_flight: e.maxInFlight,
      ordered: c.bool(e.ordered),
      enabled: c.bool(e.enabled),
      disabled_reason: e.disabledReason,
      consecutive_failures: e.consecutiveFailures,
      failing_since: timeOrNull(e.failingSince),
      created_at: c.time(e.createdAt),
      updated_at: c.time(e.updatedAt),
    }),
    endpoint: (r) => ({
      id: str(r.id),
      tenant: str(r.tenant),
      description: str(r.description),
      transport: str(r.transport) as EndpointRecord["transport"],
      target: str(r.target),
      eventTypes: fromJson(r.event_types),
      filter: filterOf(r.filter),
      scheme: str(r.scheme),
      schemeOptions: fromJsonOrNull(r.scheme_options),
      secrets: fromJson(r.secrets),
      secretName: strOrNull(r.secret_name),
      adhoc: c.fromBool(r.adhoc),
      headers: fromJson(r.headers),
      timeoutMs: num(r.timeout_ms),
      retry: fromJsonOrNull(r.retry),
      rateLimitPerS: numOrNull(r.rate_limit_per_s),
      maxInFlight: numOrNull(r.max_in_flight),
      ordered: c.fromBool(r.ordered),
      enabled: c.fromBool(r.enabled),
      disabledReason: strOrNull(r.disabled_reason),
      consecutiveFailures: num(r.consecutive_failures),
      failingSince: fromTimeOrNull(r.failing_since),
      createdAt: c.fromTime(r.created_at),
      updatedAt: c.fromTime(r.updated_at),
    }),
    messageParams: (m) => ({
      id: m.id,
      tenant: m.tenant,
      type: m.type,
      source: m.source,
      payload: c.json(m.payload),
      idempotency_key: m.idempotencyKey,
      inbound_idempotency_key: m.inboundIdempotencyKey,
      created_at: c.time(m.createdAt),
    }),
    message: (r) => ({
      id: str(r.id),
      tenant: str(r.tenant),
      type: str(r.type),
      source: strOrNull(r.source),
      payload: fromJson(r.payload),
      idempotencyKey: strOrNull(r.idempotency_key),
      inboundIdempotencyKey: strOrNull(r.inbound_idempotency_key),
      createdAt: c.fromTime(r.created_at),
    }),
    deliveryParams: (d) => ({
      id: d.id,
      message_id: d.messageId,
      endpoint_id: d.endpointId,
      status: d.status,
      attempts: d.attempts,
      max_attempts: d.maxAttempts,
      next_attempt_at: timeOrNull(d.nextAttemptAt),
      lease_owner: d.leaseOwner,
      lease_expires_at: timeOrNull(d.leaseExpiresAt),
      last_attempt_at: timeOrNull(d.lastAttemptAt),
      last_error: d.lastError,
      last_status_code: d.lastStatusCode,
      created_at: c.time(d.createdAt),
      updated_at: c.time(d.updatedAt),
    }),
    delivery: (r) => ({
      id: str(r.id),
      messageId: str(r.message_id),
      endpointId: str(r.endpoint_id),
      status: str(r.status) as DeliveryRecord["status"],
      attempts: num(r.attempts),
      maxAttempts: num(r.max_attempts),
      nextAttemptAt: fromTimeOrNull(r.next_attempt_at),
      leaseOwner: strOrNull(r.lease_owner),
      leaseExpiresAt: fromTimeOrNull(r.lease_expires_at),
      lastAttemptAt: fromTimeOrNull(r.last_attempt_at),
      lastError: strOrNull(r.last_error),
      lastStatusCode: numOrNull(r.last_status_code),
      createdAt: c.fromTime(r.created_at),
      updatedAt: c.fromTime(r.updated_at),
    }),
    attemptParams: (a) => ({
      id: a.id,
      delivery_id: a.deliveryId,
      attempt_number: a.number,
      started_at: c.time(a.startedAt),
      duration_ms: a.durationMs,
      succeeded: c.bool(a.succeeded),
      status_code: a.statusCode,
      response_headers: jsonOrNull(a.responseHeaders),
      response_body: a.responseBody,
      error: a.error,
    }),
    attempt: (r) => ({
      id: str(r.id),
      deliveryId: str(r.delivery_id),
      number: num(r.attempt_number),
      startedAt: c.fromTime(r.started_at),
      durationMs: num(r.duration_ms),
      succeeded: c.fromBool(r.succeeded),
      statusCode: numOrNull(r.status_code),
      responseHeaders: fromJsonOrNull(r.response_headers),
      responseBody: strOrNull(r.response_body),
      error: strOrNull(r.error),
    }),
    filteredParams: (f) => ({
      message_id: f.messageId,
      endpoint_id: f.endpointId,
      filtered_at: c.time(f.filteredAt),
    }),
    filtered: (r) => ({
      messageId: str(r.message_id),
      endpointId: str(r.endpoint_id),
      filteredAt: c.fromTime(r.filtered_at),
    }),
  };
}
