// Reading an inbound webhook once its signature holds, for the "store as message" step: the
// source's rules on the dedupe key, the payload (JSON or form fields) and the message type
// `<source>.<type>`.

import { createHash } from "node:crypto";
import { isValidTypePattern } from "@heraldjs/core/internal/core/typePattern.js";
import { MAX_TEXT_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import type { SourceRecord } from "@heraldjs/core/internal/model/deliveryRecords.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { jsonTextError, scanJsonText } from "@heraldjs/webhooks/internal/core/jsonText.js";
import { textProblem } from "@heraldjs/webhooks/internal/core/text.js";
import {
  type DedupeIdentity,
  idempotencyValue,
} from "@heraldjs/webhooks/internal/inbound/dedupeKey.js";

export type BodyKind = "json" | "form";

/** Longest idempotency header value a source accepts. */
const MAX_HEADER_KEY_LENGTH = 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** `json` for application/json and any `+json` type, `form` for urlencoded; else undefined. */
export function bodyKind(contentType: string | undefined): BodyKind | undefined {
  if (contentType === undefined) return undefined;
  const essence = contentType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (essence === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(essence)) {
    return "json";
  }
  if (essence === "application/x-www-form-urlencoded") return "form";
  return undefined;
}

function decodeUtf8(body: Uint8Array): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HeraldError("body.invalid_utf8", "The webhook body is not valid UTF-8");
  }
}

/**
 * Form fields by name (a repeated field becomes a list), in a map without a prototype: a field
 * named `constructor`, `toString` or `__proto__` is a field like any other. Text no store can
 * hold (U+0000, from `%00`) is refused as `text.invalid`.
 */
function formFields(text: string): Record<string, string | string[]> {
  const fields = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text)) {
    const problem = textProblem(name) ?? textProblem(value);
    if (problem !== undefined) {
      throw new HeraldError("text.invalid", `The form field ${JSON.stringify(name)} ${problem}`);
    }
    const seen = fields[name];
    if (seen === undefined) fields[name] = value;
    else fields[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}

/** A parsed payload, with the JSON text it was parsed from (stored as received). */
export interface ParsedPayload {
  payload: JsonValue;
  /** The body's text for a JSON body; undefined for form fields. */
  text?: string;
}

/**
 * The message payload: the JSON value, or form fields. 400 `body.invalid_utf8`,
 * `body.invalid_json`, `body.too_deep` (over MAX_JSON_DEPTH) or `text.invalid` (U+0000 or an
 * unpaired surrogate, which no store can hold).
 */
export function parsePayload(body: Uint8Array, kind: BodyKind): ParsedPayload {
  const text = decodeUtf8(body);
  if (kind === "form") return { payload: formFields(text) };
  const problem = scanJsonText(text);
  if (problem !== undefined) throw jsonTextError(problem, "The payload");
  try {
    return { payload: JSON.parse(text) as JsonValue, text };
  } catch {
    throw new HeraldError("body.invalid_json", "The webhook body is not valid JSON");
  }
}

export type HeaderGetter = (name: string) => string | undefined;

/**
 * The service's rules on the dedupe key (the key itself is the one inbound rule,
 * `dedupeIdentity`): the source's idempotency header, when the request has it, is at most
 * MAX_HEADER_KEY_LENGTH characters (400 `idempotency.invalid`); a source with
 * `idempotencyRequired` and no header setting needs the scheme's id (400 `idempotency.missing`;
 * with a header setting, `admit` already required the header).
 */
export function checkDedupeKey(
  source: SourceRecord,
  header: HeaderGetter,
  identity: DedupeIdentity,
): void {
  if (source.idempotencyHeader !== null) {
    const value = idempotencyValue(header, source.idempotencyHeader);
    if (value !== undefined && value.length > MAX_HEADER_KEY_LENGTH) {
      throw new HeraldError(
        "idempotency.invalid",
        `The ${source.idempotencyHeader} header is longer than ${MAX_HEADER_KEY_LENGTH} characters`,
      );
    }
  } else if (source.idempotencyRequired && identity.from !== "id") {
    throw new HeraldError("idempotency.missing", "This source requires a webhook id");
  }
}

/**
 * The key stored on the message and shown as its `idempotency_key`: the id its dedupe used (the
 * scheme's webhook id, else the source's idempotency header); null when the body's hash was the
 * key (nothing the sender named). An id longer than MAX_TEXT_LENGTH (a scheme id can be) is
 * stored as `sha256:<hex>` of it, as the dedupe key does with long ids.
 */
export function inboundIdempotencyKey(identity: DedupeIdentity): string | null {
  if (identity.from === "sha256") return null;
  if (identity.id.length <= MAX_TEXT_LENGTH) return identity.id;
  return `sha256:${createHash("sha256").update(identity.id).digest("hex")}`;
}

/** The value at a dotted path of own object fields (`data.object.type`); never a prototype's. */
function at(value: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, JsonValue>)[segment];
  }
  return current;
}

// A source sends the same few types over and over: each is checked once (bounded, so a sender
// cycling through random types only costs the check).
const validTypes = new Set<string>();
const MAX_REMEMBERED_TYPES = 1024;

function isValidType(full: string): boolean {
  if (full.includes("*") || !isValidTypePattern(full)) return false;
  if (validTypes.size >= MAX_REMEMBERED_TYPES) validTypes.clear();
  validTypes.add(full);
  return true;
}

/** `<source>.<type>`, the type taken as the source says (body field, header or fixed). */
export function messageType(
  source: SourceRecord,
  header: HeaderGetter,
  payload: JsonValue,
): string {
  const from = source.typeFrom;
  let type: string | undefined;
  let where: string;
  if ("fixed" in from) {
    type = from.fixed;
    where = "the source's fixed type";
  } else if ("header" in from) {
    type = header(from.header)?.trim();
    where = `the ${from.header} header`;
  } else {
    const value = at(payload, from.body);
    type = typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    where = `the body field ${from.body}`;
  }
  if (type === undefined || type === "") {
    throw new HeraldError("type.missing", `No event type in ${where}`);
  }
  const full = `${source.name}.${type}`;
  if (!validTypes.has(full) && !isValidType(full)) {
    throw new HeraldError(
      "type.invalid",
      `The event type from ${where} is not a valid type (dot-separated segments, no spaces or *)`,
    );
  }
  return full;
}
