// CloudEvents over HTTP: structured mode (the whole event as application/cloudevents+json) and
// binary mode (attributes as percent-encoded `ce-*` headers, the payload as the JSON body).

import type { JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { cloudEventError, fromCloudEvent, toCloudEvent } from "./cloudeventsMapping.js";
import type { EventEnvelope } from "./envelope.js";

export const CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json";

/** An HTTP message as Herald hands it out: lowercase header names, a UTF-8 body. */
export interface CloudEventHttpMessage {
  headers: Record<string, string>;
  body: string;
}

/** Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type CloudEventHeaders =
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | { forEach(callback: (value: string, name: string) => void): void };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * CloudEvents HTTP binding 3.1.3.2: space, `"`, `%` and everything outside printable ASCII are
 * percent-encoded as UTF-8 bytes, so any string survives a header.
 */
export function encodeHeaderValue(value: string): string {
  let out = "";
  for (const char of value) {
    if (char > " " && char <= "~" && char !== '"' && char !== "%") {
      out += char;
      continue;
    }
    for (const byte of utf8.encode(char)) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/**
 * The inverse of encodeHeaderValue. Characters up to U+00FF count as the raw bytes an HTTP
 * stack hands over as latin-1 text; the bytes must be UTF-8.
 */
export function decodeHeaderValue(value: string, attribute: string): string {
  if (/^[\u0020-\u007e]*$/.test(value) && !value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x25) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) cloudEventError(attribute, "has a malformed %-escape");
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (code <= 0xff) {
      bytes.push(code);
    } else {
      bytes.push(...utf8.encode(value.charAt(i)));
    }
  }
  try {
    return strictUtf8.decode(new Uint8Array(bytes));
  } catch (error) {
    return cloudEventError(attribute, "is not UTF-8 once percent-decoded", error);
  }
}

function bodyText(body: string | Uint8Array, what: string): string {
  if (typeof body === "string") return body;
  try {
    return strictUtf8.decode(body);
  } catch (error) {
    return cloudEventError(what, "is not UTF-8", error);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return cloudEventError(what, "is not valid JSON", error);
  }
}

/** Header name (lowercase) → value; a `ce-*` header given twice is refused. */
function headerMap(headers: CloudEventHeaders): Map<string, string> {
  const map = new Map<string, string>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    if (map.has(key) && key.startsWith("ce-")) {
      cloudEventError(key.slice(3), `is sent twice (${key})`);
    }
    map.set(key, value);
  };
  if ("forEach" in headers && typeof headers.forEach === "function") {
    headers.forEach((value, name) => {
      add(name, value);
    });
    return map;
  }
  for (const [name, value] of Object.entries(
    headers as Readonly<Record<string, string | readonly string[] | number | undefined>>,
  )) {
    if (value === undefined) continue;
    if (typeof value === "string" || typeof value === "number") add(name, String(value));
    else if (value.length === 1) add(name, value[0]!);
    else if (name.toLowerCase().startsWith("ce-")) {
      cloudEventError(name.toLowerCase().slice(3), `is sent ${value.length} times`);
    } else add(name, value.join(", "));
  }
  return map;
}

/** Structured mode: the whole event as the JSON body, `content-type: application/cloudevents+json`. */
export function toStructured(envelope: EventEnvelope<object>): CloudEventHttpMessage {
  return {
    headers: { "content-type": `${CLOUDEVENTS_CONTENT_TYPE}; charset=utf-8` },
    body: JSON.stringify(toCloudEvent(envelope)),
  };
}

/** The envelope in a structured-mode body (a JSON CloudEvent); see fromCloudEvent. */
export function fromStructured(body: string | Uint8Array): EventEnvelope {
  return fromCloudEvent(parseJson(bodyText(body, "the body"), "the body"));
}

/**
 * Binary mode: every attribute but `data` and `datacontenttype` as a `ce-<name>` header
 * (percent-encoded), the payload as the JSON body, `content-type: application/json`.
 * Refuses (`cloudevent.invalid`) a header value holding a lone UTF-16 surrogate, which no HTTP
 * header can carry.
 */
export function toBinary(envelope: EventEnvelope<object>): CloudEventHttpMessage {
  const { data, datacontenttype, ...attributes } = toCloudEvent(envelope);
  const headers: Record<string, string> = { "content-type": datacontenttype ?? "application/json" };
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    const text = String(value);
    if (/\p{Cs}/u.test(text)) {
      cloudEventError(name, "holds a lone UTF-16 surrogate, which an HTTP header cannot carry");
    }
    headers[`ce-${name}`] = encodeHeaderValue(text);
  }
  return { headers, body: JSON.stringify(data) };
}

/**
 * The envelope in a binary-mode message: `ce-*` headers (case-insensitive, percent-decoded),
 * `content-type` as datacontenttype, the body as JSON data. Extension values arrive as strings
 * (headers carry no types); `ce-aggregateversion` is read back as a number.
 */
export function fromBinary(headers: CloudEventHeaders, body: string | Uint8Array): EventEnvelope {
  // No prototype: a `ce-__proto__` header is an own (and then rejected) attribute.
  const event = Object.create(null) as Record<string, JsonValue>;
  for (const [name, value] of headerMap(headers)) {
    if (name === "content-type") {
      event.datacontenttype = value;
      continue;
    }
    if (!name.startsWith("ce-")) continue;
    const attribute = name.slice(3);
    if (attribute === "data" || attribute === "data_base64" || attribute === "datacontenttype") {
      cloudEventError(attribute, `travels in the body or content-type in binary mode, not ${name}`);
    }
    event[attribute] = decodeHeaderValue(value, attribute);
  }
  const text = bodyText(body, "data");
  if (text.trim() !== "") event.data = parseJson(text, "data") as JsonValue;
  return fromCloudEvent(event);
}

/**
 * Either mode, told apart by content-type: `application/cloudevents+json` is structured,
 * anything else binary (which needs a `ce-specversion` header).
 */
export function fromHttp(headers: CloudEventHeaders, body: string | Uint8Array): EventEnvelope {
  const contentType = headerMap(headers).get("content-type") ?? "";
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  if (essence === CLOUDEVENTS_CONTENT_TYPE) return fromStructured(body);
  if (essence.startsWith("application/cloudevents")) {
    cloudEventError("datacontenttype", `${essence} (batch or non-JSON format) is not supported`);
  }
  return fromBinary(headers, body);
}
