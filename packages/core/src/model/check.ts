// Small input checks for the delivery store: each failure is a HeraldError naming the field,
// so the API can answer 400 with a useful message whatever the backend.
import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  findJsonProblem,
  isPlainObject,
  type JsonObject,
  type JsonValue,
} from "@heraldjs/webhooks/internal/core/json.js";
import { scanJsonText } from "@heraldjs/webhooks/internal/core/jsonText.js";
import { textProblem } from "@heraldjs/webhooks/internal/core/text.js";
import { isValidTypePattern } from "../core/typePattern.js";
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from "./constants.js";

export function invalid(code: HeraldErrorCode, field: string, problem: string): HeraldError {
  return new HeraldError(code, `${field} ${problem}`, { details: { field } });
}

export function text(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
  max = MAX_NAME_LENGTH,
): string {
  if (typeof value !== "string" || value.length === 0) {
    throw invalid(code, field, "must be a non-empty string");
  }
  if (value.length > max) throw invalid(code, field, `must be at most ${max} characters`);
  storable(value, field, code);
  return value;
}

/**
 * PostgreSQL cannot hold U+0000 (text, jsonb) or an unpaired surrogate (jsonb); refusing both
 * everywhere keeps the backends alike (src/core/text.ts).
 */
function storable(value: string, field: string, code: HeraldErrorCode): void {
  const problem = textProblem(value);
  if (problem !== undefined) throw invalid(code, field, problem);
}

export function textOrNull(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
  max = MAX_NAME_LENGTH,
): string | null {
  return value === undefined || value === null ? null : text(value, field, code, max);
}

/** Any string, "" included (descriptions). */
export function freeText(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
  max = MAX_TEXT_LENGTH,
): string {
  if (value === undefined) return "";
  if (typeof value !== "string") throw invalid(code, field, "must be a string");
  if (value.length > max) throw invalid(code, field, `must be at most ${max} characters`);
  storable(value, field, code);
  return value;
}

export function bool(value: unknown, field: string, code: HeraldErrorCode): boolean {
  if (typeof value !== "boolean") throw invalid(code, field, "must be true or false");
  return value;
}

export function positiveInteger(value: unknown, field: string, code: HeraldErrorCode): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(code, field, "must be a positive integer");
  }
  return value;
}

export function positiveNumber(value: unknown, field: string, code: HeraldErrorCode): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalid(code, field, "must be a positive number");
  }
  return value;
}

export function nonNegativeNumber(value: unknown, field: string, code: HeraldErrorCode): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(code, field, "must be a non-negative number");
  }
  return value;
}

/**
 * A JSON value that survives a round trip through the database unchanged, nested at most
 * MAX_JSON_DEPTH deep (checked before JSON.stringify, whose recursion a deeper value would
 * overflow); deep-copied.
 */
export function json(value: unknown, field: string, code: HeraldErrorCode): JsonValue {
  if (value === undefined) throw invalid(code, field, "is required");
  const problem = findJsonProblem(value, field);
  if (problem !== undefined) throw invalid(code, problem.path, problem.reason);
  const serialized = JSON.stringify(value);
  // jsonb refuses "\u0000" and unpaired surrogates in strings and keys; refusing them
  // everywhere keeps the backends alike.
  const text = scanJsonText(serialized, { maxDepth: Number.POSITIVE_INFINITY });
  if (text !== undefined) throw invalid(code, field, text.reason);
  return JSON.parse(serialized) as JsonValue;
}

export function jsonObjectOrNull(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw invalid(code, field, "must be an object");
  return json(value, field, code) as JsonObject;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// CR, LF and NUL would let a stored header value split or truncate a request.
const HEADER_VALUE = /^[^\r\n\0]*$/;

export function headerName(value: unknown, field: string, code: HeraldErrorCode): string {
  const name = text(value, field, code);
  if (!HEADER_NAME.test(name)) throw invalid(code, field, "must be an HTTP header name");
  return name;
}

export function headerMap(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalid(code, field, "must be an object of strings");
  const entries = Object.entries(value);
  for (const [name, headerValue] of entries) {
    headerName(name, `${field}.${name}`, code);
    if (typeof headerValue !== "string" || !HEADER_VALUE.test(headerValue)) {
      throw invalid(code, `${field}.${name}`, "must be a string without CR, LF or NUL");
    }
    storable(headerValue, `${field}.${name}`, code);
  }
  // fromEntries defines own properties: a header named `__proto__` is kept as one, as
  // JSON.parse keeps it when the record is read back (`out[name] = …` would drop it).
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A concrete message or catalogue type: a type pattern without `*`. */
export function typeName(value: unknown, field: string, code: HeraldErrorCode): string {
  const name = text(value, field, code);
  if (name.includes("*") || !isValidTypePattern(name)) {
    throw invalid(code, field, "must be dot-separated segments without spaces or `*`");
  }
  return name;
}

/** Ids and names used as keys and URL path segments. */
const KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export function key(value: unknown, field: string, code: HeraldErrorCode): string {
  if (typeof value !== "string" || !KEY.test(value)) {
    throw invalid(code, field, "must be 1–64 characters of A–Z, a–z, 0–9, _, - and .");
  }
  return value;
}

export function stringList(
  value: unknown,
  field: string,
  code: HeraldErrorCode,
  max = MAX_TEXT_LENGTH,
): string[] {
  if (!Array.isArray(value)) throw invalid(code, field, "must be an array of strings");
  return value.map((item, i) => text(item, `${field}[${i}]`, code, max));
}
