// Builds validated catalogue records (event types, sources, endpoints) from user input; every
// adapter stores exactly what these return, so defaults and rules live in one place.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { newId } from "../core/ids.js";
import { normalizeRetryPolicy } from "../core/normalizeRetryPolicy.js";
import { compileTypeMatcher, MAX_TYPE_PATTERN_LENGTH } from "../core/typePattern.js";
import {
  bool,
  freeText,
  headerMap,
  headerName,
  invalid,
  jsonObjectOrNull,
  key,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  stringList,
  text,
  typeName,
} from "./check.js";
import {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_ENDPOINT_SCHEME,
  DEFAULT_ENDPOINT_TIMEOUT_MS,
  DEFAULT_ENDPOINT_TRANSPORT,
  DEFAULT_SOURCE_TOLERANCE_S,
  DEFAULT_SOURCE_TYPE_FROM,
  DEFAULT_TENANT,
  ENDPOINT_TRANSPORTS,
} from "./constants.js";
import type {
  EndpointInput,
  EndpointPatch,
  EndpointRecord,
  EndpointSecret,
  EventTypeInput,
  EventTypeRecord,
  SourceInput,
  SourceRecord,
  SourceTypeFrom,
} from "./deliveryRecords.js";
import { parseEndpointFilter } from "./endpointFilter.js";
import { isoOrNull, toIso } from "./time.js";

export function eventTypeRecord(input: EventTypeInput, nowIso: string): EventTypeRecord {
  const code = "event_type.invalid";
  if (!isPlainObject(input)) throw invalid(code, "event type", "must be an object");
  return {
    name: typeName(input.name, "name", code),
    description: freeText(input.description, "description", code),
    schema: jsonObjectOrNull(input.schema, "schema", code),
    deprecated: bool(input.deprecated ?? false, "deprecated", code),
    auto: false,
    firstSeenAt: null,
    lastSeenAt: null,
    count: 0,
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

/** What a declaration leaves as it was: how often and when messages of the type were seen. */
export type EventTypeSightings = Pick<EventTypeRecord, "firstSeenAt" | "lastSeenAt" | "count">;

export function sightingsOf(record: EventTypeRecord): EventTypeSightings {
  return { firstSeenAt: record.firstSeenAt, lastSeenAt: record.lastSeenAt, count: record.count };
}

/**
 * The catalogue entry after `count` more messages of type `name` were stored at `nowIso`: a type
 * seen for the first time is recorded `auto` without a schema; a known one (declared or not)
 * keeps its settings and only counts. The SQL adapters' UPSERTs do the same in the database.
 */
export function seenEventType(
  existing: EventTypeRecord | undefined,
  name: string,
  count: number,
  nowIso: string,
): EventTypeRecord {
  if (existing === undefined) {
    return {
      ...eventTypeRecord({ name }, nowIso),
      auto: true,
      firstSeenAt: nowIso,
      lastSeenAt: nowIso,
      count,
    };
  }
  const later = (a: string | null) => (a !== null && a > nowIso ? a : nowIso);
  const earlier = (a: string | null) => (a !== null && a < nowIso ? a : nowIso);
  return {
    ...existing,
    firstSeenAt: earlier(existing.firstSeenAt),
    lastSeenAt: later(existing.lastSeenAt),
    count: existing.count + count,
  };
}

/** `event_type.unknown`: a closed catalogue refuses messages of a type it does not list. */
export function unknownEventType(name: string): HeraldError {
  return new HeraldError(
    "event_type.unknown",
    `The event type ${JSON.stringify(name)} is not in the catalogue, which is closed: declare the type first`,
    { details: { type: name } },
  );
}

function typeFrom(value: unknown): SourceTypeFrom {
  const code = "source.invalid";
  if (value === undefined) return { ...DEFAULT_SOURCE_TYPE_FROM };
  const keys = isPlainObject(value) ? Object.keys(value) : [];
  const [only] = keys;
  if (keys.length !== 1 || (only !== "body" && only !== "header" && only !== "fixed")) {
    throw invalid(code, "typeFrom", "must be { body }, { header } or { fixed }");
  }
  const field = (value as Record<string, unknown>)[only];
  if (only === "header") return { header: headerName(field, "typeFrom.header", code) };
  if (only === "body") return { body: text(field, "typeFrom.body", code) };
  return { fixed: typeName(field, "typeFrom.fixed", code) };
}

export function sourceRecord(input: SourceInput, nowIso: string): SourceRecord {
  const code = "source.invalid";
  if (!isPlainObject(input)) throw invalid(code, "source", "must be an object");
  return {
    name: key(input.name, "name", code),
    scheme: text(input.scheme, "scheme", code),
    schemeOptions: jsonObjectOrNull(input.schemeOptions, "schemeOptions", code),
    secrets: stringList(input.secrets ?? [], "secrets", code),
    toleranceS: nonNegativeNumber(
      input.toleranceS ?? DEFAULT_SOURCE_TOLERANCE_S,
      "toleranceS",
      code,
    ),
    idempotencyHeader:
      input.idempotencyHeader === undefined || input.idempotencyHeader === null
        ? null
        : headerName(input.idempotencyHeader, "idempotencyHeader", code),
    idempotencyRequired: bool(input.idempotencyRequired ?? false, "idempotencyRequired", code),
    dedupeTtlS: positiveNumber(input.dedupeTtlS ?? DEFAULT_DEDUPE_TTL_S, "dedupeTtlS", code),
    typeFrom: typeFrom(input.typeFrom),
    allowFrom: stringList(input.allowFrom ?? [], "allowFrom", code),
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

function target(transport: string, value: unknown): string {
  const code = "endpoint.invalid";
  const raw = text(value, "target", code, 2048);
  if (transport === "http") {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid(code, "target", "must be an absolute http(s) URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw invalid(code, "target", "must be an absolute http(s) URL");
    }
    return raw;
  }
  if (/\s/.test(raw)) throw invalid(code, "target", "must not contain whitespace");
  return raw;
}

/** Secrets with their expiry (endpoints, named secrets); `code` names the record's error. */
export function secretList(
  value: unknown,
  nowIso: string,
  code: "endpoint.invalid" | "secret.invalid" = "endpoint.invalid",
): EndpointSecret[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(code, "secrets", "must be an array");
  return value.map((item: unknown, i) => {
    const field = `secrets[${i}]`;
    if (!isPlainObject(item)) throw invalid(code, field, "must be { secret, expiresAt? }");
    return {
      secret: text(item.secret, `${field}.secret`, code, 1024),
      expiresAt: isoOrNull(item.expiresAt, `${field}.expiresAt`, code),
      createdAt:
        item.createdAt === undefined ? nowIso : toIso(item.createdAt, `${field}.createdAt`, code),
    };
  });
}

type EndpointSettings = Omit<
  EndpointRecord,
  | "id"
  | "enabled"
  | "adhoc"
  | "disabledReason"
  | "consecutiveFailures"
  | "failingSince"
  | "createdAt"
>;

function endpointSettings(input: EndpointPatch & EndpointInput, nowIso: string): EndpointSettings {
  const code = "endpoint.invalid";
  const transport = input.transport ?? DEFAULT_ENDPOINT_TRANSPORT;
  if (!ENDPOINT_TRANSPORTS.includes(transport)) {
    throw invalid(code, "transport", `must be one of ${ENDPOINT_TRANSPORTS.join(", ")}`);
  }
  const eventTypes = stringList(input.eventTypes, "eventTypes", code, MAX_TYPE_PATTERN_LENGTH);
  if (eventTypes.length === 0) throw invalid(code, "eventTypes", "must list at least one pattern");
  compileTypeMatcher(eventTypes); // throws type_pattern.invalid naming the bad pattern
  return {
    tenant: text(input.tenant ?? DEFAULT_TENANT, "tenant", code),
    description: freeText(input.description, "description", code),
    transport,
    target: target(transport, input.target),
    eventTypes,
    // Throws filter.invalid naming the path (`filter.payload.total.$gte: …`).
    filter:
      input.filter === undefined || input.filter === null
        ? null
        : parseEndpointFilter(input.filter),
    scheme: text(input.scheme ?? DEFAULT_ENDPOINT_SCHEME, "scheme", code),
    schemeOptions: jsonObjectOrNull(input.schemeOptions, "schemeOptions", code),
    secrets: secretList(input.secrets, nowIso),
    secretName:
      input.secretName === undefined || input.secretName === null
        ? null
        : key(input.secretName, "secretName", code),
    headers: headerMap(input.headers, "headers", code),
    timeoutMs: positiveInteger(input.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS, "timeoutMs", code),
    retry:
      input.retry === undefined || input.retry === null ? null : normalizeRetryPolicy(input.retry),
    rateLimitPerS:
      input.rateLimitPerS === undefined || input.rateLimitPerS === null
        ? null
        : positiveNumber(input.rateLimitPerS, "rateLimitPerS", code),
    maxInFlight:
      input.maxInFlight === undefined || input.maxInFlight === null
        ? null
        : positiveInteger(input.maxInFlight, "maxInFlight", code),
    ordered: bool(input.ordered ?? false, "ordered", code),
    updatedAt: nowIso,
  };
}

export function newEndpointRecord(
  input: EndpointInput,
  nowIso: string,
  clock: Clock,
): EndpointRecord {
  const code = "endpoint.invalid";
  if (!isPlainObject(input)) throw invalid(code, "endpoint", "must be an object");
  const id = input.id === undefined ? newId("ep", { clock }) : key(input.id, "id", code);
  const settings = endpointSettings(input, nowIso);
  const enabled = bool(input.enabled ?? true, "enabled", code);
  return {
    id,
    ...settings,
    adhoc: bool(input.adhoc ?? false, "adhoc", code),
    enabled,
    disabledReason: null,
    consecutiveFailures: 0,
    failingSince: null,
    createdAt: nowIso,
  };
}

const AD_HOC_IDENTITY = ["tenant", "transport", "target", "secretName"] as const;

/** The endpoint after `patch`: fields left out keep their value; the result is re-validated. */
export function patchedEndpointRecord(
  existing: EndpointRecord,
  patch: EndpointPatch,
  nowIso: string,
): EndpointRecord {
  if (!isPlainObject(patch)) throw invalid("endpoint.invalid", "patch", "must be an object");
  const defined = Object.fromEntries(
    Object.entries(patch).filter(([, value]) => value !== undefined),
  ) as EndpointPatch;
  for (const field of ["id", "enabled", "adhoc"]) {
    if (field in defined) {
      throw invalid("endpoint.invalid", field, "cannot be changed by an update");
    }
  }
  // An ad-hoc endpoint is found by what its id hashes (adhocEndpoints.ts): those stay.
  for (const field of existing.adhoc ? AD_HOC_IDENTITY : []) {
    if (field in defined && defined[field] !== existing[field]) {
      throw invalid("endpoint.invalid", field, "of an ad-hoc endpoint cannot be changed");
    }
  }
  const {
    id,
    adhoc,
    enabled,
    disabledReason,
    consecutiveFailures,
    failingSince,
    createdAt,
    ...current
  } = existing;
  const filter = current.filter === null ? null : current.filter.json;
  const settings = endpointSettings({ ...current, filter, ...defined }, nowIso);
  return {
    id,
    ...settings,
    adhoc,
    enabled,
    disabledReason,
    consecutiveFailures,
    failingSince,
    createdAt,
  };
}

/** The endpoint enabled (failure run cleared) or disabled with a reason. */
export function toggledEndpointRecord(
  existing: EndpointRecord,
  enabled: boolean,
  reason: string | null | undefined,
  nowIso: string,
): EndpointRecord {
  const code = "endpoint.invalid";
  bool(enabled, "enabled", code);
  if (enabled) {
    return {
      ...existing,
      enabled,
      disabledReason: null,
      consecutiveFailures: 0,
      failingSince: null,
      updatedAt: nowIso,
    };
  }
  return {
    ...existing,
    enabled,
    disabledReason: reason === undefined || reason === null ? null : text(reason, "reason", code),
    updatedAt: nowIso,
  };
}
