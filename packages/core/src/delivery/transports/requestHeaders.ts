// The headers of an outbound delivery request: the endpoint's extras, then Herald's, then the scheme's.

/**
 * Extra headers an endpoint may not set: the connection framing is undici's business (and
 * undici rejects several of these outright), so they are dropped rather than failing every
 * attempt.
 */
const FRAMING_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "expect",
  "host",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

interface RequestHeaderParts {
  /** `EndpointRecord.headers`: lowest precedence. */
  extra: Readonly<Record<string, string>>;
  /** content-type, user-agent, x-herald-*: override the extras. */
  herald: Readonly<Record<string, string>>;
  /** The signing scheme's headers: override everything, so nothing can spoof or drop them. */
  signing: Readonly<Record<string, string>>;
}

/**
 * One lowercase-keyed record. Precedence is extra < herald < signing, compared
 * case-insensitively, so an endpoint's `Webhook-Id` or `User-Agent` cannot replace ours.
 */
export function buildRequestHeaders({
  extra,
  herald,
  signing,
}: RequestHeaderParts): Record<string, string> {
  // No prototype: an endpoint header named `__proto__` or `constructor` is a header like any
  // other (assigning `__proto__` on a plain object would drop it).
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(extra)) {
    const key = name.toLowerCase();
    if (!FRAMING_HEADERS.has(key)) headers[key] = value;
  }
  for (const [name, value] of Object.entries(herald)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(signing)) headers[name.toLowerCase()] = value;
  return headers;
}

/** Response headers for the attempt log: lowercase names, repeated ones joined with ", ". */
export function flattenResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
