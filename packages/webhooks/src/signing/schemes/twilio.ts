// Twilio: `X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + sorted form params))`; JSON
// bodies are covered by a `bodySHA256` query parameter instead. Not timestamped; needs the full URL.
import { createHash, randomBytes } from "node:crypto";
import { parse as parseLegacyQuery, stringify as stringifyLegacyQuery } from "node:querystring";
import { HeraldError } from "../../core/errors.js";
import { decodeDigest, hmac, safeEqual } from "../crypto.js";
import { fail } from "../timestamp.js";
import type {
  HeaderReader,
  RawBody,
  SchemeVerifyInput,
  VerifyResult,
  WebhookScheme,
} from "../types.js";

const SIGNATURE_HEADER = "X-Twilio-Signature";
const ID_HEADER = "I-Twilio-Idempotency-Token";
const BODY_HASH_PARAM = "bodySHA256";
const SCHEME_AND_AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

function sha256(body: Uint8Array): Buffer {
  return createHash("sha256").update(body).digest();
}

function bodyMatchesHash(body: Uint8Array, hexHash: string): boolean {
  const expected = decodeDigest(hexHash, "hex", 32);
  return expected !== undefined && safeEqual(expected, sha256(body));
}

/** The `bodySHA256` query parameter when the URL carries one (Twilio's JSON-body variant). */
function bodyHashParam(url: string): string | undefined {
  const start = url.indexOf("?");
  if (start < 0) return undefined;
  const end = url.indexOf("#", start);
  // The leading "&" keeps URLSearchParams from dropping a "?" that starts the query.
  const query = new URLSearchParams(`&${url.slice(start + 1, end < 0 ? undefined : end)}`);
  return query.get(BODY_HASH_PARAM) ?? undefined;
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** WHATWG form decoding of one name or value: "+" is a space, bad escapes stay as they are. */
function decodeFormPart(bytes: Buffer): string {
  if (!bytes.includes(0x25) && !bytes.includes(0x2b)) return bytes.toString("utf8");
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const high = byte === 0x25 ? hexValue(bytes[i + 1]) : -1;
    const low = high < 0 ? -1 : hexValue(bytes[i + 2]);
    if (low >= 0) {
      out[length++] = high * 16 + low;
      i += 2;
    } else {
      out[length++] = byte === 0x2b ? 0x20 : byte;
    }
  }
  return out.toString("utf8", 0, length);
}

/**
 * The signed form of an application/x-www-form-urlencoded body, parsed from the raw bytes (Node's
 * URLSearchParams mangles some malformed escapes): each key (sorted) followed by its value; a
 * repeated key contributes each distinct value once, sorted, as the `twilio` package does.
 */
function signedParams(body: Uint8Array): string {
  if (body.length === 0) return "";
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const grouped = new Map<string, Set<string>>();
  let start = 0;
  while (start <= bytes.length) {
    const ampersand = bytes.indexOf(0x26, start);
    const end = ampersand < 0 ? bytes.length : ampersand;
    if (end > start) {
      const equals = bytes.indexOf(0x3d, start);
      const split = equals < 0 || equals > end ? end : equals;
      const key = decodeFormPart(bytes.subarray(start, split));
      const value = decodeFormPart(bytes.subarray(Math.min(split + 1, end), end));
      const values = grouped.get(key);
      if (values === undefined) grouped.set(key, new Set([value]));
      else values.add(value);
    }
    start = end + 1;
  }
  let signed = "";
  for (const key of [...grouped.keys()].sort()) {
    for (const value of [...(grouped.get(key) ?? [])].sort()) signed += key + value;
  }
  return signed;
}

/** The URL without any port, and with the scheme's default port when it names none. */
function portVariants(url: string): [string, string] {
  const match = SCHEME_AND_AUTHORITY.exec(url);
  if (match === null) return [url, url];
  const scheme = match[1] ?? "";
  const authority = match[2] ?? "";
  const rest = url.slice(match[0].length);
  const userInfoEnd = authority.lastIndexOf("@") + 1;
  const hostAndPort = authority.slice(userInfoEnd);
  const colon = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  const withoutPort =
    scheme +
    authority.slice(0, userInfoEnd) +
    (colon < 0 ? hostAndPort : hostAndPort.slice(0, colon));
  if (colon >= 0) return [withoutPort + rest, url];
  const defaultPort = scheme.toLowerCase() === "https://" ? ":443" : ":80";
  return [withoutPort + rest, withoutPort + defaultPort + rest];
}

/** The query string re-encoded the way Node's legacy `querystring` module writes it. */
function legacyQuery(url: string): string {
  const start = url.indexOf("?");
  if (start < 0 || start === url.length - 1) return url;
  return `${url.slice(0, start + 1)}${stringifyLegacyQuery(parseLegacyQuery(url.slice(start + 1)))}`;
}

/**
 * Every URL form Twilio may have signed, most likely first: as received without and with the
 * port, then (as the `twilio` package falls back to) the WHATWG-normalised URL, also with the
 * query re-encoded by the legacy `querystring` rules.
 */
function* candidateUrls(url: string): Generator<string> {
  const seen = new Set<string>();
  for (const candidate of portVariants(url)) {
    if (!seen.has(candidate)) yield candidate;
    seen.add(candidate);
  }
  let normalized: string;
  try {
    normalized = new URL(url).href;
  } catch {
    return;
  }
  const [without, withPort] = portVariants(normalized);
  for (const candidate of [without, withPort, legacyQuery(without), legacyQuery(withPort)]) {
    if (!seen.has(candidate)) yield candidate;
    seen.add(candidate);
  }
}

function matchesAnyUrl(
  url: string,
  params: string,
  secrets: readonly string[],
  candidate: Uint8Array,
): boolean {
  for (const signedUrl of candidateUrls(url)) {
    for (const secret of secrets) {
      if (safeEqual(hmac("sha1", secret, [signedUrl, params]), candidate)) return true;
    }
  }
  return false;
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const { url, body, header: read } = input;
  if (url === undefined || url === "") {
    return fail("url.missing", "The twilio scheme signs the full request URL: pass `url`");
  }
  const header = read("x-twilio-signature")?.trim();
  if (header === undefined || header === "") {
    return fail("signature.missing", "The X-Twilio-Signature header is missing");
  }
  const candidate = decodeDigest(header, "base64", 20);
  if (candidate === undefined) {
    return fail("signature.malformed", "X-Twilio-Signature is not a base64 HMAC-SHA1 digest");
  }
  const bodyHash = bodyHashParam(url);
  const params = bodyHash === undefined ? signedParams(body) : "";
  if (!matchesAnyUrl(url, params, input.secrets, candidate)) {
    return fail("signature.invalid", "No signature matches any secret");
  }
  if (bodyHash !== undefined && !bodyMatchesHash(body, bodyHash)) {
    return fail("body.mismatch", "The body does not match the bodySHA256 the URL carries");
  }
  const id = read(ID_HEADER.toLowerCase());
  return id ? { ok: true, id } : { ok: true };
}

export const twilioScheme: WebhookScheme = {
  name: "twilio",
  timestamped: false,
  multipleSignatures: false,
  sign({ secrets, body, id, url }) {
    if (url === undefined || url === "") {
      throw new HeraldError(
        "url.missing",
        "The twilio scheme signs the full request URL: pass `url`",
      );
    }
    const bodyHash = bodyHashParam(url);
    if (bodyHash !== undefined && !bodyMatchesHash(body, bodyHash)) {
      throw new HeraldError(
        "body.mismatch",
        "The URL's bodySHA256 is not the SHA-256 of the body (see withTwilioBodyHash)",
      );
    }
    const params = bodyHash === undefined ? signedParams(body) : "";
    const signature = hmac("sha1", secrets[0] ?? "", [url, params]).toString("base64");
    const headers: Record<string, string> = { [SIGNATURE_HEADER]: signature };
    if (id !== undefined && id !== "") headers[ID_HEADER] = id;
    return headers;
  },
  verify,
  deliveryId(read: HeaderReader) {
    return read(ID_HEADER.toLowerCase()) || undefined;
  },
  generateSecret() {
    return randomBytes(16).toString("hex");
  },
};

/** Adds `bodySHA256=<hex sha256(body)>` to a URL, as Twilio does for requests with a JSON body. */
export function withTwilioBodyHash(url: string, body: RawBody): string {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const [beforeFragment, fragment] = url.split("#", 2);
  const base = beforeFragment ?? url;
  const query = base.indexOf("?");
  const separator = query < 0 ? "?" : query === base.length - 1 || base.endsWith("&") ? "" : "&";
  const hashed = `${base}${separator}${BODY_HASH_PARAM}=${sha256(bytes).toString("hex")}`;
  return fragment === undefined ? hashed : `${hashed}#${fragment}`;
}
