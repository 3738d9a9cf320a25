// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 over "{t}.{body}" keyed
// with the whole `whsec_…` string as UTF-8. Several v1 entries during a secret roll; other
// schemes (v0) are ignored. The dedupe id is the event `id` in the JSON body.
import { randomBytes } from "node:crypto";
import { DIGEST_BYTES, decodeDigest, hmac, safeEqual } from "../crypto.js";
import { jsonStringField } from "../jsonField.js";
import { checkUnixTimestamp, fail } from "../timestamp.js";
import type { SchemeVerifyInput, VerifyResult, WebhookScheme } from "../types.js";

const HEADER = "stripe-signature";
const WHITESPACE = /\s/;

/** The v1 MAC: the key is the whole secret string (prefix included) as UTF-8. */
function v1Mac(secret: string, timestamp: string, body: Uint8Array): Buffer {
  return hmac("sha256", secret, [`${timestamp}.`, body]);
}

/** A string field of a JSON object body; undefined when the body is not a JSON object. */

/** Where an entry's key starts: Stripe sends no spaces, but a proxy may add one after a comma. */
function keyStart(entry: string): number {
  let i = 0;
  while (entry.charCodeAt(i) === 0x20) i++;
  return i;
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const header = input.header(HEADER);
  if (header === undefined || header.trim() === "") {
    return fail("signature.missing", "The Stripe-Signature header is missing");
  }
  for (const secret of input.secrets) {
    if (WHITESPACE.test(secret)) {
      return fail("secret.invalid", "The Stripe signing secret contains whitespace");
    }
  }

  const entries = header.split(",");
  let rawTimestamp: string | undefined;
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const start = keyStart(entry);
    if (eq - start !== 1 || entry.charCodeAt(start) !== 0x74 /* t */) continue;
    if (rawTimestamp !== undefined) {
      return fail("signature.malformed", "The Stripe-Signature header has more than one t=");
    }
    rawTimestamp = entry.slice(eq + 1).trim();
  }
  if (rawTimestamp === undefined) {
    return fail("timestamp.missing", "The Stripe-Signature header has no t= timestamp");
  }
  const time = checkUnixTimestamp(rawTimestamp, input);
  if (!time.ok) return time;

  let macs: Buffer[] | undefined;
  let sawV1 = false;
  let sawWellFormed = false;
  let sawGarbage = false;
  let sawOtherScheme = false;
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const start = keyStart(entry);
    if (eq < 0) {
      if (start < entry.length) sawGarbage = true;
      continue;
    }
    if (eq - start !== 2 || !entry.startsWith("v1", start)) {
      if (eq - start !== 1 || entry.charCodeAt(start) !== 0x74) sawOtherScheme = true;
      continue;
    }
    sawV1 = true;
    const candidate = decodeDigest(entry.slice(eq + 1).trim(), "hex", DIGEST_BYTES.sha256);
    if (candidate === undefined) continue;
    sawWellFormed = true;
    macs ??= input.secrets.map((secret) => v1Mac(secret, rawTimestamp, input.body));
    for (const mac of macs) {
      if (safeEqual(mac, candidate)) {
        const id = jsonStringField(input.body, "id");
        return id === undefined
          ? { ok: true, timestamp: time.seconds }
          : { ok: true, id, timestamp: time.seconds };
      }
    }
  }
  if (sawWellFormed) return fail("signature.invalid", "No v1 signature matches any secret");
  if (sawV1) return fail("signature.malformed", "A v1 signature is not 64 hex digits");
  if (sawGarbage) return fail("signature.malformed", "A Stripe-Signature entry is not key=value");
  if (sawOtherScheme) {
    return fail("signature.unsupported", "No v1 signature (only v0 or unknown schemes)");
  }
  return fail("signature.malformed", "The Stripe-Signature header carries no signature");
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `length` uniformly random alphanumeric characters (rejection sampling, no modulo bias). */
function randomAlphanumeric(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export const stripeScheme: WebhookScheme = {
  name: "stripe",
  timestamped: true,
  multipleSignatures: true,
  sign({ secrets, body, timestamp }) {
    const t = String(timestamp);
    const entries = secrets.map((secret) => `v1=${v1Mac(secret, t, body).toString("hex")}`);
    return { "Stripe-Signature": `t=${t},${entries.join(",")}` };
  },
  verify,
  deliveryId(_header, body) {
    return jsonStringField(body, "id");
  },
  generateSecret() {
    return `whsec_${randomAlphanumeric(32)}`;
  },
};
