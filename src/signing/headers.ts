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
  return value.length === 0 ? undefined : value.join(" ");
}

/** Builds a lookup that takes a lowercase header name. */
export function headerReader(headers: HeadersLike): HeaderReader {
  if (isFetchHeaders(headers)) {
    return (name) => headers.get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, HeaderValue>>;
  let lowered: Map<string, HeaderValue> | undefined;
  return (name) => {
    const direct = record[name];
    if (direct !== undefined) return toStringValue(direct);
    if (lowered === undefined) {
      lowered = new Map();
      for (const key of Object.keys(record)) lowered.set(key.toLowerCase(), record[key]);
    }
    return toStringValue(lowered.get(name));
  };
}
