// Hand-written, strict validation of v1 envelopes arriving from outside the type system
// (HTTP bodies, stored rows, bus messages); every failure names the offending field.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  findJsonProblem,
  isPlainObject,
  type JsonObject,
  joinPath,
} from "@heraldjs/webhooks/internal/core/json.js";
import type { EnvelopeAggregate, EventEnvelope } from "./envelope.js";
import { isEventType, MAX_EVENT_TYPE_LENGTH } from "./eventType.js";
import { isUuid } from "./ids.js";
import { isIsoDateTime } from "./isoDateTime.js";

/** Longest accepted `source`, `correlationId`, `causationId` and `aggregate.id`. */
export const MAX_ENVELOPE_STRING_LENGTH = 255;
/** `aggregate.type` names a stream kind (`order` in `order/123`), so it cannot hold a `/`. */
export const AGGREGATE_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

const ENVELOPE_KEYS = new Set([
  "id",
  "type",
  "occurredAt",
  "source",
  "correlationId",
  "causationId",
  "aggregate",
  "payload",
  "metadata",
]);
const AGGREGATE_KEYS = new Set(["type", "id", "version"]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const WHITESPACE = /\s/;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
}

function fail(path: string, problem: string): never {
  const where = path === "" ? "the value" : path;
  throw new HeraldError("envelope.invalid", `Invalid envelope: ${where} ${problem}`, {
    details: { path },
  });
}

function rejectUnknownKeys(value: Record<string, unknown>, known: Set<string>, at: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      const hint = at === "" ? " (put extensions in metadata)" : "";
      fail(joinPath(at, key), `is not a known field${hint}`);
    }
  }
}

function requireString(value: unknown, path: string, options: { spaces?: boolean } = {}): string {
  if (value === undefined) fail(path, "is required");
  if (typeof value !== "string") fail(path, `must be a string (got ${describe(value)})`);
  if (value.length === 0) fail(path, "must not be empty");
  if (value.length > MAX_ENVELOPE_STRING_LENGTH) {
    fail(path, `must be at most ${MAX_ENVELOPE_STRING_LENGTH} characters`);
  }
  if (CONTROL_CHARACTER.test(value)) fail(path, "must not contain control characters");
  if (options.spaces === false && WHITESPACE.test(value)) fail(path, "must not contain whitespace");
  return value;
}

// JSON producers often write `null` for "absent"; rejecting it (rather than reading it as
// absent) keeps one spelling per meaning, so stored envelopes compare and hash consistently.
function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) fail(path, "must be a string or left out (got null)");
  return requireString(value, path);
}

function requireJsonObject(value: unknown, path: string): JsonObject {
  if (value === undefined) fail(path, "is required");
  if (!isPlainObject(value)) fail(path, `must be a plain object (got ${describe(value)})`);
  const problem = findJsonProblem(value, path);
  if (problem !== undefined) fail(problem.path, `is not valid JSON: ${problem.reason}`);
  return value as JsonObject;
}

function validateAggregate(value: unknown): EnvelopeAggregate | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    fail("aggregate", `must be an object {type, id, version} (got ${describe(value)})`);
  }
  rejectUnknownKeys(value, AGGREGATE_KEYS, "aggregate");
  const type = requireString(value.type, "aggregate.type");
  if (!AGGREGATE_TYPE_PATTERN.test(type)) {
    fail(
      "aggregate.type",
      `must start with a letter and hold at most 100 letters, digits, "_", "-" or "." (got ${describe(type)})`,
    );
  }
  const id = requireString(value.id, "aggregate.id");
  const { version } = value;
  if (version === undefined) fail("aggregate.version", "is required");
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    fail("aggregate.version", `must be a positive integer (got ${describe(version)})`);
  }
  return { type, id, version };
}

/**
 * Checks that `value` is a v1 envelope and returns a fresh envelope object holding only the
 * known fields (the id lower-cased; payload and metadata by reference). Throws HeraldError
 * `envelope.invalid` whose `details.path` names the first failing field, e.g.
 * `aggregate.version` or `payload.items[2]`.
 */
export function validateEnvelope(value: unknown): EventEnvelope {
  if (!isPlainObject(value)) fail("", `must be a plain object (got ${describe(value)})`);
  rejectUnknownKeys(value, ENVELOPE_KEYS, "");

  const id = requireString(value.id, "id");
  if (!isUuid(id)) fail("id", `must be a UUID (got ${describe(id)})`);

  const { type } = value;
  if (type === undefined) fail("type", "is required");
  if (typeof type !== "string") fail("type", `must be a string (got ${describe(type)})`);
  if (type.length > MAX_EVENT_TYPE_LENGTH) {
    fail("type", `must be at most ${MAX_EVENT_TYPE_LENGTH} characters`);
  }
  if (!isEventType(type)) {
    fail(
      "type",
      `must be a lowercase dotted name ending in a version, like "order.created.v1" (got ${describe(type)})`,
    );
  }

  const { occurredAt } = value;
  if (occurredAt === undefined) fail("occurredAt", "is required");
  if (!isIsoDateTime(occurredAt)) {
    fail(
      "occurredAt",
      `must be an ISO 8601 date-time with an offset, like "2024-05-01T12:00:00.000Z" (got ${describe(occurredAt)})`,
    );
  }

  const source = requireString(value.source, "source", { spaces: false });
  const correlationId = optionalString(value.correlationId, "correlationId");
  const causationId = optionalString(value.causationId, "causationId");
  const aggregate = validateAggregate(value.aggregate);
  const payload = requireJsonObject(value.payload, "payload");
  const metadata = requireJsonObject(value.metadata, "metadata");

  // Canonical key order, optional fields left out rather than undefined: serialisations match.
  return {
    id: id.toLowerCase(),
    type,
    occurredAt,
    source,
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(causationId === undefined ? {} : { causationId }),
    ...(aggregate === undefined ? {} : { aggregate }),
    payload,
    metadata,
  };
}
