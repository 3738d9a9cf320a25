// Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
// `webhook-signature: v1,<base64 HMAC-SHA256> v1a,<base64 Ed25519>` over "{id}.{timestamp}.{body}".
// Keys: `whsec_<base64>` (symmetric, the prefix is optional), `whsk_<base64 seed>` (Ed25519
// private, signs) and `whpk_<base64>` (Ed25519 public, verifies). Svix's `svix-*` headers are
// read as aliases.
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { HeraldError } from "../../core/errors.js";
import { toBodyBytes } from "../body.js";
import { decodeBase64Strict, decodeDigest, KeyCache, safeEqual, safeEqualAt } from "../crypto.js";
import { headerReader } from "../headers.js";
import { fail, parseUnixSeconds, timestampFailure } from "../timestamp.js";
import type {
  HeaderReader,
  HeadersLike,
  HeaderValue,
  SchemeVerifyInput,
  VerifyResult,
  WebhookScheme,
} from "../types.js";

type StandardKey =
  | { kind: "hmac"; key: KeyObject }
  | { kind: "ed25519-private"; privateKey: KeyObject; publicKey: KeyObject }
  | { kind: "ed25519-public"; publicKey: KeyObject }
  | { kind: "invalid"; reason: string };

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function parseKey(secret: string): StandardKey {
  if (secret.startsWith("whsk_")) {
    const raw = decodeBase64Strict(secret.slice(5));
    if (raw === undefined || (raw.length !== 32 && raw.length !== 64)) {
      return { kind: "invalid", reason: "a whsk_ key must be base64 of a 32-byte Ed25519 seed" };
    }
    const privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]),
      format: "der",
      type: "pkcs8",
    });
    return { kind: "ed25519-private", privateKey, publicKey: createPublicKey(privateKey) };
  }
  if (secret.startsWith("whpk_")) {
    const raw = decodeBase64Strict(secret.slice(5));
    if (raw === undefined || raw.length !== 32) {
      return { kind: "invalid", reason: "a whpk_ key must be base64 of a 32-byte Ed25519 key" };
    }
    const publicKey = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
      format: "der",
      type: "spki",
    });
    return { kind: "ed25519-public", publicKey };
  }
  const encoded = secret.startsWith("whsec_") ? secret.slice(6) : secret;
  const key = decodeBase64Strict(encoded);
  if (key === undefined) {
    return { kind: "invalid", reason: "a whsec_ secret must be followed by standard base64" };
  }
  // A KeyObject spares createHmac from importing the raw key bytes on every request.
  return { kind: "hmac", key: createSecretKey(key) };
}

const keys = new KeyCache<StandardKey>();

// The last single secret seen and its parsed key, as a one-element list: the usual call
// verifies against one secret, again and again, and then needs neither the cache's map lookup
// nor a fresh list.
let lastSecret: string | undefined;
let lastKeys: readonly StandardKey[] = [];

/** The parsed keys of `secrets`, or the first invalid one's reason. */
function keysFor(secrets: readonly string[]): readonly StandardKey[] | string {
  if (secrets.length === 1) {
    const secret = secrets[0] as string;
    if (secret === lastSecret) return lastKeys;
    const key = keys.get(secret, parseKey);
    if (key.kind === "invalid") return key.reason;
    lastSecret = secret;
    lastKeys = [key];
    return lastKeys;
  }
  const parsed: StandardKey[] = [];
  for (const secret of secrets) {
    const key = keys.get(secret, parseKey);
    if (key.kind === "invalid") return key.reason;
    parsed.push(key);
  }
  return parsed;
}

function header(read: HeaderReader, name: string): string | undefined {
  return read(`webhook-${name}`) ?? read(`svix-${name}`);
}

function signedContent(id: string, timestamp: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
}

/** Blank: empty or only white space (trims only when the first character may be white space). */
function isBlank(text: string): boolean {
  const first = text.charCodeAt(0);
  return !(first > 32 && first < 127) && text.trim() === "";
}

/** Length of the canonical padded base64 of an HMAC-SHA256 (32 bytes). */
const MAC_BASE64_LENGTH = 44;

/**
 * Verifies the three header values. The body is bytes, or a string the HMAC encodes as UTF-8
 * itself (the same bytes `Buffer.from(body)` gives), so a string body is not copied first.
 */
function verifyValues(
  secrets: readonly string[],
  id: string | undefined,
  rawTimestamp: string | undefined,
  signatures: string | undefined,
  body: string | Uint8Array,
  referenceMs: number,
  toleranceSeconds: number,
): VerifyResult {
  if (signatures === undefined || isBlank(signatures)) {
    return fail("signature.missing", "The webhook-signature header is missing");
  }
  if (id === undefined || id === "") return fail("id.missing", "The webhook-id header is missing");
  if (rawTimestamp === undefined) {
    return fail("timestamp.missing", "The webhook-timestamp header is missing");
  }
  const seconds = parseUnixSeconds(rawTimestamp);
  const late = timestampFailure(seconds, rawTimestamp, referenceMs, toleranceSeconds);
  if (late !== undefined) return late;
  const timestamp = seconds as number;

  const parsed = keysFor(secrets);
  if (typeof parsed === "string") return fail("secret.invalid", `Invalid secret: ${parsed}`);

  const prefix = `${id}.${timestamp}.`;
  let content: Buffer | undefined;
  // Each HMAC key's MAC in canonical base64, computed once the first v1 entry is seen.
  let macs: string[] | undefined;
  let sawKnown = false;
  let sawWellFormed = false;
  // The header is `version,signature` entries separated by spaces; walked in place by index,
  // since this runs for every request and usually holds a single entry.
  const length = signatures.length;
  for (let start = 0; start < length; ) {
    let end = signatures.indexOf(" ", start);
    if (end < 0) end = length;
    const entryStart = start;
    start = end + 1;
    const comma = signatures.indexOf(",", entryStart);
    if (comma < 0 || comma >= end) continue;
    const versionLength = comma - entryStart;
    if (versionLength === 2 && signatures.startsWith("v1", entryStart)) {
      sawKnown = true;
      if (macs === undefined) {
        macs = [];
        for (const key of parsed) {
          if (key.kind === "hmac") {
            macs.push(createHmac("sha256", key.key).update(prefix).update(body).digest("base64"));
          }
        }
      }
      // Usual case: the signature is the canonical base64 of a MAC, compared as text in
      // constant time — no decoding, no buffers.
      if (end - comma - 1 === MAC_BASE64_LENGTH) {
        for (const mac of macs) {
          if (safeEqualAt(mac, signatures, comma + 1)) return { ok: true, id, timestamp };
        }
      }
      // Anything else (unpadded, URL-safe alphabet, non-zero trailing bits, or no match) is
      // decoded and compared as bytes, exactly as before the text comparison existed.
      const candidate = decodeDigest(signatures.slice(comma + 1, end), "base64", 32);
      if (candidate === undefined) continue;
      sawWellFormed = true;
      for (const mac of macs) {
        if (safeEqual(Buffer.from(mac, "base64"), candidate)) return { ok: true, id, timestamp };
      }
    } else if (versionLength === 3 && signatures.startsWith("v1a", entryStart)) {
      sawKnown = true;
      const candidate = decodeDigest(signatures.slice(comma + 1, end), "base64", 64);
      if (candidate === undefined) continue;
      sawWellFormed = true;
      content ??= Buffer.concat([Buffer.from(prefix), toBodyBytes(body)]);
      for (const key of parsed) {
        if (key.kind === "hmac" || key.kind === "invalid") continue;
        if (edVerify(null, content, key.publicKey, candidate)) return { ok: true, id, timestamp };
      }
    }
  }
  if (sawWellFormed) return fail("signature.invalid", "No signature matches any secret");
  if (sawKnown) return fail("signature.malformed", "The signature is truncated or not base64");
  return fail("signature.unsupported", "No signature of a supported version (v1, v1a)");
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const read = input.header;
  return verifyValues(
    input.secrets,
    header(read, "id"),
    header(read, "timestamp"),
    header(read, "signature"),
    input.body,
    input.referenceMs,
    input.toleranceSeconds,
  );
}

/**
 * `verifyWebhook`'s path for this scheme: when the three `webhook-*` headers are plain
 * strings of a header record (Node's IncomingHttpHeaders, a lowercase object) they are read
 * directly, without building a header reader; otherwise (fetch Headers, other letter case,
 * arrays, Svix aliases) through the reader, as every scheme does.
 */
export function verifyStandardRequest(
  secrets: readonly string[],
  headers: HeadersLike,
  body: string | Uint8Array,
  referenceMs: number,
  toleranceSeconds: number,
): VerifyResult {
  if (typeof (headers as { get?: unknown }).get !== "function") {
    const record = headers as Readonly<Record<string, HeaderValue>>;
    const id = record["webhook-id"];
    const timestamp = record["webhook-timestamp"];
    const signatures = record["webhook-signature"];
    if (typeof id === "string" && typeof timestamp === "string" && typeof signatures === "string") {
      return verifyValues(secrets, id, timestamp, signatures, body, referenceMs, toleranceSeconds);
    }
  }
  const read = headerReader(headers);
  return verifyValues(
    secrets,
    header(read, "id"),
    header(read, "timestamp"),
    header(read, "signature"),
    body,
    referenceMs,
    toleranceSeconds,
  );
}

export const standardScheme: WebhookScheme = {
  name: "standard",
  timestamped: true,
  multipleSignatures: true,
  sign({ secrets, body, id, timestamp }) {
    if (id === undefined || id === "") {
      throw new HeraldError("id.missing", "The standard scheme signs a message id: pass `id`");
    }
    const prefix = `${id}.${timestamp}.`;
    // Ed25519 signs one buffer; the HMAC takes the prefix and the body as they are.
    let content: Buffer | undefined;
    const entries = secrets.map((secret) => {
      const key = keys.get(secret, parseKey);
      switch (key.kind) {
        case "hmac":
          return `v1,${createHmac("sha256", key.key).update(prefix).update(body).digest("base64")}`;
        case "ed25519-private":
          content ??= signedContent(id, timestamp, body);
          return `v1a,${edSign(null, content, key.privateKey).toString("base64")}`;
        case "ed25519-public":
          throw new HeraldError("secret.invalid", "A whpk_ public key can verify but not sign");
        default:
          throw new HeraldError("secret.invalid", `Invalid secret: ${key.reason}`);
      }
    });
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": entries.join(" "),
    };
  },
  verify,
  deliveryId(read) {
    return header(read, "id") || undefined;
  },
  generateSecret() {
    return `whsec_${randomBytes(32).toString("base64")}`;
  },
};

/** A new Ed25519 key pair for `v1a` signatures: sign with `secret`, publish `publicKey`. */
export function generateStandardKeyPair(): { secret: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d ?? "", "base64url");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  return { secret: `whsk_${seed.toString("base64")}`, publicKey: `whpk_${pub.toString("base64")}` };
}
