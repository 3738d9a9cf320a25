// Envelope v1 ↔ CloudEvents 1.0 attributes, lossless both ways: the Herald fields travel as
// core attributes and lowercase extensions, metadata as extensions or one JSON extension.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  isPlainObject,
  type JsonObject,
  type JsonValue,
} from "@heraldjs/webhooks/internal/core/json.js";
import type { EventEnvelope } from "./envelope.js";
import { validateEnvelope } from "./validateEnvelope.js";

export const CLOUDEVENTS_SPEC_VERSION = "1.0";
/** Extension holding, as a JSON object, the metadata entries no plain extension can carry. */
export const HERALD_METADATA_EXTENSION = "heraldmetadata";

/** A CloudEvent in its JSON form: context attributes, extensions and `data`. */
export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: JsonValue;
  /** Extensions: strings, integers or booleans (Herald writes strings and `aggregateversion`). */
  [attribute: string]: JsonValue | undefined;
}

/** CloudEvents attribute names: lowercase letters and digits (≤ 20 recommended). */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
/** The CloudEvents Integer type is a signed 32-bit integer. */
const MAX_CE_INTEGER = 2_147_483_647;
const DECIMAL = /^[1-9][0-9]*$/;
const LONE_SURROGATE = /\p{Cs}/u;

const HERALD_EXTENSIONS = [
  "correlationid",
  "causationid",
  "aggregatetype",
  "aggregateid",
  "aggregateversion",
  HERALD_METADATA_EXTENSION,
] as const;
const CORE_ATTRIBUTES = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
] as const;
/** Names a metadata key can never take as its own extension. */
const RESERVED = new Set<string>([...CORE_ATTRIBUTES, ...HERALD_EXTENSIONS]);

/** Throws HeraldError `cloudevent.invalid` whose `details.attribute` names the attribute. */
export function cloudEventError(attribute: string, problem: string, cause?: unknown): never {
  const where = attribute === "" ? "the event" : attribute;
  throw new HeraldError("cloudevent.invalid", `Invalid CloudEvent: ${where} ${problem}`, {
    details: { attribute },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A metadata entry becomes an extension of its own when a CloudEvents consumer would read it
 * back unchanged in both modes: a free, valid name and a non-empty, UTF-8-safe string value
 * (HTTP headers carry no types, so a number would come back as a string).
 */
function isPlainExtension(key: string, value: JsonValue): value is string {
  return (
    EXTENSION_NAME.test(key) &&
    !RESERVED.has(key) &&
    typeof value === "string" &&
    value !== "" &&
    !LONE_SURROGATE.test(value)
  );
}

/** `dataschema` in metadata maps to the CloudEvents attribute when it is a URI. */
function isDataSchema(key: string, value: JsonValue): value is string {
  return key === "dataschema" && typeof value === "string" && URL.canParse(value);
}

/**
 * The CloudEvent for an envelope (validated first, HeraldError `envelope.invalid`):
 * `id`, `type`, `source`, `time` = occurredAt, `subject` = `aggregate.type/aggregate.id`,
 * `datacontenttype` application/json, `data` = payload; extensions `correlationid`,
 * `causationid`, `aggregatetype`, `aggregateid`, `aggregateversion` (an integer, or its decimal
 * string beyond 2^31−1). Metadata: string entries under a free extension name travel as that
 * extension, `dataschema` (a URI) as the attribute, everything else as the JSON object in
 * `heraldmetadata`.
 */
export function toCloudEvent(envelope: EventEnvelope<object>): CloudEvent {
  const e = validateEnvelope(envelope);
  const event: CloudEvent = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.aggregate === undefined ? {} : { subject: `${e.aggregate.type}/${e.aggregate.id}` }),
    time: e.occurredAt,
    datacontenttype: "application/json",
  };
  if (e.correlationId !== undefined) event.correlationid = e.correlationId;
  if (e.causationId !== undefined) event.causationid = e.causationId;
  if (e.aggregate !== undefined) {
    const { type, id, version } = e.aggregate;
    event.aggregatetype = type;
    event.aggregateid = id;
    event.aggregateversion = version <= MAX_CE_INTEGER ? version : String(version);
  }
  const rest: [string, JsonValue][] = [];
  for (const [key, value] of Object.entries(e.metadata)) {
    if (isPlainExtension(key, value)) event[key] = value;
    else if (isDataSchema(key, value)) event.dataschema = value;
    else rest.push([key, value]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  if (rest.length > 0) event[HERALD_METADATA_EXTENSION] = JSON.stringify(Object.fromEntries(rest));
  event.data = e.payload;
  return event;
}

function optionalString(event: Record<string, unknown>, name: string): string | undefined {
  const value = event[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") cloudEventError(name, `must be a string (got ${typeof value})`);
  return value;
}

function requiredString(event: Record<string, unknown>, name: string, why = ""): string {
  const value = optionalString(event, name);
  if (value === undefined || value === "") cloudEventError(name, `is required${why}`);
  return value;
}

function isJsonMediaType(value: string): boolean {
  const essence = value.split(";")[0]!.trim().toLowerCase();
  return essence === "application/json" || /^[a-z0-9.+-]+\/[a-z0-9.+-]+\+json$/.test(essence);
}

function parseVersion(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && DECIMAL.test(value)) return Number(value);
  return cloudEventError(
    "aggregateversion",
    `must be a positive integer (got ${JSON.stringify(value)})`,
  );
}

const AGGREGATE_PARTS = ["aggregatetype", "aggregateid", "aggregateversion"] as const;

function readAggregate(event: Record<string, unknown>) {
  const present = AGGREGATE_PARTS.filter((name) => event[name] !== undefined);
  const subject = optionalString(event, "subject");
  if (present.length === 0) {
    if (subject !== undefined) {
      cloudEventError(
        "subject",
        "is only allowed as aggregatetype/aggregateid: a Herald envelope has no other subject",
      );
    }
    return undefined;
  }
  for (const name of AGGREGATE_PARTS) {
    if (event[name] === undefined) {
      cloudEventError(name, `is required with ${present.join(", ")}`);
    }
  }
  const type = requiredString(event, "aggregatetype");
  const id = requiredString(event, "aggregateid");
  const version = parseVersion(event.aggregateversion);
  if (subject !== undefined && subject !== `${type}/${id}`) {
    cloudEventError(
      "subject",
      `must be aggregatetype/aggregateid ${JSON.stringify(`${type}/${id}`)} (got ${JSON.stringify(subject)})`,
    );
  }
  return { type, id, version };
}

function readMetadata(event: Record<string, unknown>): JsonObject {
  const entries: [string, JsonValue][] = [];
  const packed = optionalString(event, HERALD_METADATA_EXTENSION);
  if (packed !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(packed);
    } catch (error) {
      cloudEventError(HERALD_METADATA_EXTENSION, "is not valid JSON", error);
    }
    if (!isPlainObject(parsed)) cloudEventError(HERALD_METADATA_EXTENSION, "must be a JSON object");
    entries.push(...(Object.entries(parsed) as [string, JsonValue][]));
  }
  const seen = new Set(entries.map(([key]) => key));
  const add = (key: string, value: JsonValue) => {
    if (seen.has(key)) {
      cloudEventError(key, `is also in ${HERALD_METADATA_EXTENSION}: one metadata key, two values`);
    }
    seen.add(key);
    entries.push([key, value]);
  };
  const dataschema = optionalString(event, "dataschema");
  if (dataschema !== undefined) add("dataschema", dataschema);
  for (const [name, value] of Object.entries(event)) {
    if (RESERVED.has(name) || value === undefined) continue;
    if (typeof value !== "string" && typeof value !== "boolean" && !Number.isInteger(value)) {
      cloudEventError(name, "must be a string, an integer or a boolean");
    }
    add(name, value as JsonValue);
  }
  return Object.fromEntries(entries);
}

const ENVELOPE_TO_ATTRIBUTE: Readonly<Record<string, string>> = {
  id: "id",
  type: "type",
  occurredAt: "time",
  source: "source",
  correlationId: "correlationid",
  causationId: "causationid",
  aggregate: "aggregatetype",
  "aggregate.type": "aggregatetype",
  "aggregate.id": "aggregateid",
  "aggregate.version": "aggregateversion",
};

/** Re-words an `envelope.invalid` error in CloudEvents terms: `payload.x` → `data.x`, … */
function asCloudEventError(error: HeraldError): never {
  const path = typeof error.details?.path === "string" ? error.details.path : "";
  const problem = error.message.slice(
    `Invalid envelope: ${path === "" ? "the value" : path} `.length,
  );
  if (path.startsWith("payload")) {
    const dataPath = `data${path.slice("payload".length)}`;
    throw new HeraldError("cloudevent.invalid", `Invalid CloudEvent: ${dataPath} ${problem}`, {
      details: { attribute: "data", path: dataPath },
      cause: error,
    });
  }
  const attribute = path.startsWith("metadata")
    ? HERALD_METADATA_EXTENSION
    : (ENVELOPE_TO_ATTRIBUTE[path] ?? path);
  return cloudEventError(attribute, problem, error);
}

/**
 * The envelope a CloudEvent carries; the inverse of toCloudEvent. Throws HeraldError
 * `cloudevent.invalid` with `details.attribute` naming the first failing attribute: specversion
 * other than 1.0, a missing `time` or `data` (an envelope needs them), non-JSON data, a subject
 * that is not `aggregatetype/aggregateid`, an id that is not a UUID, a type without a version…
 * Attributes set to null count as absent; unknown extensions become metadata.
 */
export function fromCloudEvent(value: unknown): EventEnvelope {
  if (!isPlainObject(value)) cloudEventError("", "must be a JSON object");
  const event: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(value)) {
    if (!ATTRIBUTE_NAME.test(name) && name !== "data_base64") {
      cloudEventError(name, "is not a valid attribute name (lowercase letters and digits only)");
    }
    if (attribute !== null) event[name] = attribute;
  }
  const specversion = requiredString(event, "specversion");
  if (specversion !== CLOUDEVENTS_SPEC_VERSION) {
    cloudEventError("specversion", `must be "1.0" (got ${JSON.stringify(specversion)})`);
  }
  const id = requiredString(event, "id");
  const source = requiredString(event, "source");
  const type = requiredString(event, "type");
  const time = requiredString(event, "time", ": an envelope needs occurredAt");
  const contentType = optionalString(event, "datacontenttype");
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    cloudEventError("datacontenttype", `must be application/json (got ${contentType})`);
  }
  if (event.data_base64 !== undefined) {
    cloudEventError("data_base64", "is binary data; an envelope payload is a JSON object");
  }
  if (event.data === undefined) cloudEventError("data", "is required: it is the envelope payload");
  const aggregate = readAggregate(event);
  const candidate = {
    id,
    type,
    occurredAt: time,
    source,
    correlationId: optionalString(event, "correlationid"),
    causationId: optionalString(event, "causationid"),
    aggregate,
    payload: event.data,
    metadata: readMetadata(event),
  };
  try {
    return validateEnvelope(candidate);
  } catch (error) {
    if (error instanceof HeraldError && error.code === "envelope.invalid") {
      asCloudEventError(error);
    }
    throw error;
  }
}
