// Generic HMAC contracts (`X-Signature` + optional `X-Timestamp` / `X-Event-Id` over a template
// such as "{timestamp}.{body}"), validated once at creation so verification only hashes and compares.
import { randomBytes } from "node:crypto";
import { HeraldError } from "../../core/errors.js";
import {
  DIGEST_BYTES,
  decodeBase64Strict,
  decodeDigest,
  hmac,
  KeyCache,
  safeEqual,
} from "../crypto.js";
import { checkTimestamp, fail, parseUnixSeconds } from "../timestamp.js";
import type {
  SchemeSignInput,
  SchemeVerifyInput,
  VerifyResult,
  VerifySuccess,
  WebhookScheme,
} from "../types.js";

export interface HmacSchemeOptions {
  /** Default "sha256". */
  algorithm?: "sha256" | "sha512";
  /** How the digest is written in the header; default "hex". */
  encoding?: "hex" | "base64";
  /** Default "X-Signature". */
  signatureHeader?: string;
  /** Written before each digest, e.g. "sha256=" or "v1="; entries with another label are skipped. */
  signaturePrefix?: string;
  /** Header carrying the signed timestamp; when set, stale and future deliveries are refused. */
  timestampHeader?: string;
  /** Header carrying the delivery id (dedupe key); `{id}` in the template signs it too. */
  idHeader?: string;
  /** Signed content; placeholders {id} {timestamp} {body}. Default "{body}", or "{timestamp}.{body}". */
  template?: string;
  /** How secrets are written; default "utf8" (the secret's text is the key). */
  secretEncoding?: "utf8" | "base64" | "hex";
  /** Between several signatures in one header (rotation); default ",". */
  separator?: string;
  /** Unit of the timestamp header; default "seconds". */
  timestampUnit?: "seconds" | "milliseconds";
}

type Piece = { text: string } | { field: "id" | "timestamp" };

const KNOWN_OPTIONS = (
  "algorithm encoding signatureHeader signaturePrefix timestampHeader " +
  "idHeader template secretEncoding separator timestampUnit"
).split(" ");
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGEST_ALPHABET = { hex: /[0-9a-fA-F]/, base64: /[A-Za-z0-9+/=]/ };
const HEX_KEY = /^(?:[0-9a-fA-F]{2})+$/;
const LABEL = /^[A-Za-z0-9_.-]+$/;

function invalid(option: string, message: string): HeraldError {
  return new HeraldError("scheme.invalid_options", `hmac scheme option ${option}: ${message}`, {
    details: { option },
  });
}

function choice<T extends string>(
  options: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T {
  const value = options[key] ?? allowed[0];
  if (!allowed.includes(value as T)) {
    throw invalid(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return value as T;
}

function headerOption(options: Record<string, unknown>, key: string, fallback?: string) {
  const value = options[key] ?? fallback;
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !HEADER_TOKEN.test(value)) {
    throw invalid(key, `${JSON.stringify(value)} is not a valid HTTP header name`);
  }
  return { name: value, lower: value.toLowerCase() };
}

function stringOption(options: Record<string, unknown>, key: string, fallback: string): string {
  const value = options[key] ?? fallback;
  if (typeof value !== "string") throw invalid(key, "must be a string");
  return value;
}

/** Splits the template around {body}; the pieces before and after are rendered per request. */
function compileTemplate(template: string, timestamp: boolean, id: boolean) {
  const pieces: (Piece | "body")[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{([^{}]*)\}|[{}]/g)) {
    const index = match.index ?? 0;
    if (index > last) pieces.push({ text: template.slice(last, index) });
    last = index + match[0].length;
    const name = match[1];
    if (name === undefined) throw invalid("template", `unbalanced "${match[0]}" at ${index}`);
    if (name === "body") pieces.push("body");
    else if (name === "id" || name === "timestamp") pieces.push({ field: name });
    else throw invalid("template", `unknown placeholder {${name}}; use {id} {timestamp} {body}`);
  }
  if (last < template.length) pieces.push({ text: template.slice(last) });
  const bodyAt = pieces.indexOf("body");
  if (bodyAt < 0 || pieces.lastIndexOf("body") !== bodyAt) {
    throw invalid("template", "must contain {body} exactly once");
  }
  const fields = pieces.filter((p): p is Piece => p !== "body");
  const uses = (field: string) => fields.some((p) => "field" in p && p.field === field);
  if (uses("timestamp") && !timestamp) {
    throw invalid("template", "uses {timestamp} but timestampHeader is not set");
  }
  if (!uses("timestamp") && timestamp) {
    throw invalid("template", "must sign {timestamp} when timestampHeader is set");
  }
  if (uses("id") && !id) throw invalid("template", "uses {id} but idHeader is not set");
  return {
    before: pieces.slice(0, bodyAt) as Piece[],
    after: pieces.slice(bodyAt + 1) as Piece[],
    usesId: uses("id"),
  };
}

function resolveOptions(input: HmacSchemeOptions) {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid("options", "must be an object");
  }
  const options = input as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key) && options[key] !== undefined) {
      throw invalid(key, `unknown option; known: ${KNOWN_OPTIONS.join(", ")}`);
    }
  }
  const algorithm = choice(options, "algorithm", ["sha256", "sha512"] as const);
  const encoding = choice(options, "encoding", ["hex", "base64"] as const);
  const secretEncoding = choice(options, "secretEncoding", ["utf8", "base64", "hex"] as const);
  const unit = choice(options, "timestampUnit", ["seconds", "milliseconds"] as const);
  // With a fallback the header is always defined.
  const signature = headerOption(options, "signatureHeader", "X-Signature")!;
  const timestamp = headerOption(options, "timestampHeader");
  const id = headerOption(options, "idHeader");
  if (timestamp !== undefined && timestamp.lower === signature.lower) {
    throw invalid("timestampHeader", "must differ from signatureHeader");
  }
  if (id !== undefined && (id.lower === signature.lower || id.lower === timestamp?.lower)) {
    throw invalid("idHeader", "must differ from signatureHeader and timestampHeader");
  }
  const separator = stringOption(options, "separator", ",");
  if (separator === "" || DIGEST_ALPHABET[encoding].test(separator)) {
    throw invalid("separator", `must be non-empty and outside the ${encoding} alphabet`);
  }
  const prefix = stringOption(options, "signaturePrefix", "");
  if (prefix.includes(separator)) throw invalid("signaturePrefix", "must not contain separator");
  const template = stringOption(
    options,
    "template",
    timestamp === undefined ? "{body}" : "{timestamp}.{body}",
  );
  return {
    algorithm,
    encoding,
    signature,
    prefix,
    timestamp,
    id,
    ...compileTemplate(template, timestamp !== undefined, id !== undefined),
    secretEncoding,
    separator,
    milliseconds: unit === "milliseconds",
  };
}

function render(pieces: readonly Piece[], id: string, timestamp: string): string {
  let out = "";
  for (const piece of pieces) {
    out += "text" in piece ? piece.text : piece.field === "id" ? id : timestamp;
  }
  return out;
}

/** "v2=…" next to a "v1=" prefix is another version (skipped), not a malformed entry. */
function isOtherVersion(entry: string, prefix: string): boolean {
  const delimiter = prefix.at(-1);
  if (delimiter === undefined || /[A-Za-z0-9]/.test(delimiter)) return false;
  const at = entry.indexOf(delimiter);
  return (
    at > 0 && at < entry.length - 1 && entry[at + 1] !== delimiter && LABEL.test(entry.slice(0, at))
  );
}

/** A scheme for the contract; `name` lets presets (eventing) reuse the engine under their own name. */
export function defineHmacScheme(name: string, options: HmacSchemeOptions): WebhookScheme {
  const c = resolveOptions(options);
  const digestBytes = DIGEST_BYTES[c.algorithm];
  const keys = new KeyCache<Buffer | null>();
  const decodeKey = (secret: string): Buffer | null => {
    if (c.secretEncoding === "utf8") return Buffer.from(secret, "utf8");
    if (c.secretEncoding === "hex") return HEX_KEY.test(secret) ? Buffer.from(secret, "hex") : null;
    return decodeBase64Strict(secret) ?? null;
  };
  const content = (body: Uint8Array, id = "", timestamp = "") =>
    [render(c.before, id, timestamp), body, render(c.after, id, timestamp)] as const;

  function verify(input: SchemeVerifyInput): VerifyResult {
    const read = input.header;
    const header = read(c.signature.lower);
    if (header === undefined || header.trim() === "") {
      return fail("signature.missing", `The ${c.signature.name} header is missing`);
    }
    const id = c.id === undefined ? undefined : read(c.id.lower) || undefined;
    if (c.usesId && id === undefined) {
      return fail("id.missing", `The ${c.id?.name} header is missing`);
    }
    let rawTimestamp = "";
    let seconds: number | undefined;
    if (c.timestamp !== undefined) {
      rawTimestamp = read(c.timestamp.lower)?.trim() ?? "";
      if (rawTimestamp === "") {
        return fail("timestamp.missing", `The ${c.timestamp.name} header is missing`);
      }
      const value = parseUnixSeconds(rawTimestamp);
      if (value === undefined) {
        const unit = c.milliseconds ? "milliseconds" : "seconds";
        return fail("timestamp.invalid", `${c.timestamp.name} is not Unix ${unit}`);
      }
      const time = checkTimestamp(
        c.milliseconds ? value / 1000 : value,
        rawTimestamp,
        input.referenceMs,
        input.toleranceSeconds,
      );
      if (!time.ok) return time;
      seconds = Math.floor(time.seconds);
    }
    const parsed: Buffer[] = [];
    for (const secret of input.secrets) {
      const key = keys.get(secret, decodeKey);
      if (key === null) return fail("secret.invalid", `A secret is not ${c.secretEncoding}`);
      parsed.push(key);
    }
    let macs: Buffer[] | undefined;
    let sawWellFormed = false;
    let sawMalformed = false;
    for (const part of header.split(c.separator)) {
      const entry = part.trim();
      if (entry === "") continue;
      if (!entry.startsWith(c.prefix)) {
        if (!isOtherVersion(entry, c.prefix)) sawMalformed = true;
        continue;
      }
      const candidate = decodeDigest(entry.slice(c.prefix.length), c.encoding, digestBytes);
      if (candidate === undefined) {
        sawMalformed = true;
        continue;
      }
      sawWellFormed = true;
      if (macs === undefined) {
        const signed = content(input.body, id, rawTimestamp);
        macs = parsed.map((key) => hmac(c.algorithm, key, signed));
      }
      if (macs.some((expected) => safeEqual(expected, candidate))) {
        const result: VerifySuccess = { ok: true };
        if (id !== undefined) result.id = id;
        if (seconds !== undefined) result.timestamp = seconds;
        return result;
      }
    }
    if (sawWellFormed) return fail("signature.invalid", "No signature matches any secret");
    if (sawMalformed) {
      return fail(
        "signature.malformed",
        `${c.signature.name} is not a ${c.prefix}<${c.encoding}> digest`,
      );
    }
    return fail("signature.unsupported", `No signature with the ${c.prefix} prefix`);
  }

  function sign({ secrets, body, id, timestamp }: SchemeSignInput): Record<string, string> {
    if (c.usesId && (id === undefined || id === "")) {
      throw new HeraldError("id.missing", `The ${name} scheme signs a message id: pass \`id\``);
    }
    const stamp = String(c.milliseconds ? timestamp * 1000 : timestamp);
    const signed = content(body, id, stamp);
    const entries = secrets.map((secret) => {
      const key = keys.get(secret, decodeKey);
      if (key === null) {
        throw new HeraldError("secret.invalid", `A secret is not ${c.secretEncoding}`);
      }
      return c.prefix + hmac(c.algorithm, key, signed).toString(c.encoding);
    });
    const headers: [string, string][] = [[c.signature.name, entries.join(c.separator)]];
    if (c.timestamp !== undefined) headers.push([c.timestamp.name, stamp]);
    if (c.id !== undefined && id !== undefined && id !== "") headers.push([c.id.name, id]);
    // Own properties whatever the configured names: `headers["__proto__"] = …` would be lost.
    return Object.fromEntries(headers);
  }

  return {
    name,
    timestamped: c.timestamp !== undefined,
    multipleSignatures: true,
    sign,
    verify,
    deliveryId(read) {
      return c.id === undefined ? undefined : read(c.id.lower) || undefined;
    },
    generateSecret() {
      const bytes = randomBytes(digestBytes);
      return bytes.toString(c.secretEncoding === "utf8" ? "base64url" : c.secretEncoding);
    },
  };
}

/** A scheme for a generic HMAC contract; throws `scheme.invalid_options` naming a bad option. */
export function createHmacScheme(options: HmacSchemeOptions = {}): WebhookScheme {
  return defineHmacScheme("hmac", options);
}
