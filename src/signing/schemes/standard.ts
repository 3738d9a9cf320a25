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
import { decodeBase64Strict, decodeDigest, hmac, KeyCache, safeEqual } from "../crypto.js";
import { checkUnixTimestamp, fail } from "../timestamp.js";
import type { HeaderReader, SchemeVerifyInput, VerifyResult, WebhookScheme } from "../types.js";

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

function header(read: HeaderReader, name: string): string | undefined {
  return read(`webhook-${name}`) ?? read(`svix-${name}`);
}

function signedContent(id: string, timestamp: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const { header: read, body } = input;
  const id = header(read, "id");
  const rawTimestamp = header(read, "timestamp");
  const signatures = header(read, "signature");
  if (signatures === undefined || signatures.trim() === "") {
    return fail("signature.missing", "The webhook-signature header is missing");
  }
  if (id === undefined || id === "") return fail("id.missing", "The webhook-id header is missing");
  if (rawTimestamp === undefined) {
    return fail("timestamp.missing", "The webhook-timestamp header is missing");
  }
  const time = checkUnixTimestamp(rawTimestamp, input);
  if (!time.ok) return time;

  const parsed: StandardKey[] = [];
  for (const secret of input.secrets) {
    const key = keys.get(secret, parseKey);
    if (key.kind === "invalid") return fail("secret.invalid", `Invalid secret: ${key.reason}`);
    parsed.push(key);
  }

  const prefix = `${id}.${time.seconds}.`;
  let content: Buffer | undefined;
  let macs: Buffer[] | undefined;
  let sawKnown = false;
  let sawWellFormed = false;
  // The header is `version,signature` entries separated by spaces; walked in place, since
  // this runs for every request and usually holds a single entry.
  for (let start = 0; start < signatures.length; ) {
    let end = signatures.indexOf(" ", start);
    if (end < 0) end = signatures.length;
    const entry =
      start === 0 && end === signatures.length ? signatures : signatures.slice(start, end);
    start = end + 1;
    const comma = entry.indexOf(",");
    if (comma < 0) continue;
    const version = comma === 2 && entry.startsWith("v1") ? "v1" : entry.slice(0, comma);
    if (version === "v1") {
      sawKnown = true;
      const candidate = decodeDigest(entry.slice(comma + 1), "base64", 32);
      if (candidate === undefined) continue;
      sawWellFormed = true;
      if (macs === undefined) {
        macs = [];
        for (const key of parsed) {
          if (key.kind === "hmac") {
            macs.push(createHmac("sha256", key.key).update(prefix).update(body).digest());
          }
        }
      }
      for (const mac of macs) {
        if (safeEqual(mac, candidate)) return { ok: true, id, timestamp: time.seconds };
      }
    } else if (version === "v1a") {
      sawKnown = true;
      const candidate = decodeDigest(entry.slice(comma + 1), "base64", 64);
      if (candidate === undefined) continue;
      sawWellFormed = true;
      content ??= Buffer.concat([Buffer.from(prefix), body]);
      for (const key of parsed) {
        if (key.kind === "hmac" || key.kind === "invalid") continue;
        if (edVerify(null, content, key.publicKey, candidate)) {
          return { ok: true, id, timestamp: time.seconds };
        }
      }
    }
  }
  if (sawWellFormed) return fail("signature.invalid", "No signature matches any secret");
  if (sawKnown) return fail("signature.malformed", "The signature is truncated or not base64");
  return fail("signature.unsupported", "No signature of a supported version (v1, v1a)");
}

export const standardScheme: WebhookScheme = {
  name: "standard",
  timestamped: true,
  multipleSignatures: true,
  sign({ secrets, body, id, timestamp }) {
    if (id === undefined || id === "") {
      throw new HeraldError("id.missing", "The standard scheme signs a message id: pass `id`");
    }
    const content = signedContent(id, timestamp, body);
    const entries = secrets.map((secret) => {
      const key = keys.get(secret, parseKey);
      switch (key.kind) {
        case "hmac":
          return `v1,${hmac("sha256", key.key, [content]).toString("base64")}`;
        case "ed25519-private":
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
