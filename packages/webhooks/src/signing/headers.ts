// Case-insensitive header access over the header shapes users actually hold.
import type { HeaderReader, HeadersLike, HeaderValue } from "./types.js";

function isFetchHeaders(
  headers: HeadersLike,
): headers is { get(name: string): string | null; has(name: string): boolean } {
  return typeof (headers as { get?: unknown }).get === "function";
}

function toStringValue(value: HeaderValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (!Array.isArray(value)) return undefined;
  return value.length === 0 ? undefined : value.join(" ");
}

/**
 * Builds a lookup that takes a lowercase header name. Only the record's own headers are read: a
 * header named `constructor` or `__proto__` is looked up like any other, never found on
 * Object.prototype.
 */
export function headerReader(headers: HeadersLike): HeaderReader {
  if (isFetchHeaders(headers)) {
    return (name) => headers.get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, HeaderValue>>;
  let lowered: Map<string, HeaderValue> | undefined;
  return (name) => {
    const direct = Object.hasOwn(record, name) ? record[name] : undefined;
    if (direct !== undefined) return toStringValue(direct);
    if (lowered === undefined) {
      lowered = new Map();
      for (const key of Object.keys(record)) lowered.set(key.toLowerCase(), record[key]);
    }
    return toStringValue(lowered.get(name));
  };
}

/**
 * Node's `req.headers` drops a header named `__proto__` (its `rawHeaders` keeps it). These are
 * the headers with it put back, in a copy without a prototype made only when the request has
 * one, so a source or receiver configured to read such a header reads it like any other.
 */
export function withProtoHeader<H extends Readonly<Record<string, HeaderValue>>>(
  headers: H,
  rawHeaders: readonly string[] | undefined,
): H {
  if (rawHeaders === undefined) return headers;
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length !== 9 || name.toLowerCase() !== "__proto__") continue;
    const next = rawHeaders[i + 1] as string;
    value = value === undefined ? next : `${value}, ${next}`;
  }
  if (value === undefined) return headers;
  const copy = Object.assign(Object.create(null) as Record<string, HeaderValue>, headers);
  Object.defineProperty(copy, "__proto__", {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy as H;
}
