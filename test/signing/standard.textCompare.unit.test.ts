// The standard scheme compares a MAC's canonical base64 with the received signature as text
// (constant time) and falls back to decoding it, and verifyWebhook reads plain header records
// directly. These tests pin that the outcome is exactly what decoding every signature and
// comparing bytes gives (the reference below is the byte-comparing verifier, HMAC keys only),
// over signature spellings, header shapes, body types and secret lists.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/index.js";
import { safeEqualAt } from "../../packages/webhooks/src/signing/crypto.js";
import { headerReader } from "../../packages/webhooks/src/signing/headers.js";
import type { HeadersLike, VerifyResult } from "../../packages/webhooks/src/signing/types.js";

const key = Buffer.alloc(32, 42);
const secret = `whsec_${key.toString("base64")}`;
const otherSecret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const timestamp = 1_700_000_000;
const now = timestamp * 1000;
const text = '{"type":"order.created.v1","data":{"name":"Zoë ☕ 🚀"}}';

function fail(code: string, message: string): VerifyResult {
  return { ok: false, code, message } as VerifyResult;
}

/** The byte-comparing verifier: every v1 signature decoded, compared with timingSafeEqual. */
function reference(
  secrets: readonly string[],
  headers: HeadersLike,
  body: string | Uint8Array,
): VerifyResult {
  const read = headerReader(headers);
  const get = (name: string) => read(`webhook-${name}`) ?? read(`svix-${name}`);
  const rawId = get("id");
  const rawTimestamp = get("timestamp");
  const signatures = get("signature");
  if (signatures === undefined || signatures.trim() === "") {
    return fail("signature.missing", "The webhook-signature header is missing");
  }
  if (rawId === undefined || rawId === "") {
    return fail("id.missing", "The webhook-id header is missing");
  }
  if (rawTimestamp === undefined) {
    return fail("timestamp.missing", "The webhook-timestamp header is missing");
  }
  const seconds = /^\d{1,15}$/.test(rawTimestamp.trim()) ? Number(rawTimestamp.trim()) : NaN;
  if (Number.isNaN(seconds)) {
    return fail(
      "timestamp.invalid",
      `Timestamp ${JSON.stringify(rawTimestamp)} is not Unix seconds`,
    );
  }
  const keys = secrets.map((s) => Buffer.from(s.replace(/^whsec_/, ""), "base64"));
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const macs = keys.map((k) =>
    createHmac("sha256", k).update(`${rawId}.${seconds}.`).update(bytes).digest(),
  );
  let sawKnown = false;
  let sawWellFormed = false;
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0) continue;
    const version = entry.slice(0, comma);
    if (version !== "v1" && version !== "v1a") continue;
    sawKnown = true;
    if (version === "v1a") continue;
    const encoded = entry.slice(comma + 1);
    if (encoded.length !== 44 && encoded.length !== 43) continue;
    const candidate = Buffer.from(encoded, "base64");
    if (candidate.length !== 32) continue;
    sawWellFormed = true;
    if (macs.some((mac) => timingSafeEqual(mac, candidate))) {
      return { ok: true, id: rawId, timestamp: seconds };
    }
  }
  if (sawWellFormed) return fail("signature.invalid", "No signature matches any secret");
  if (sawKnown) return fail("signature.malformed", "The signature is truncated or not base64");
  return fail("signature.unsupported", "No signature of a supported version (v1, v1a)");
}

const good = (
  signWebhook({ scheme: "standard", secret, id, timestamp, body: text })["webhook-signature"] ?? ""
).slice(3);
const bytes = Buffer.from(good, "base64");

/** Spellings of the good signature (and near misses) that a decoder may or may not accept. */
const spellings: Record<string, string> = {
  canonical: good,
  unpadded: good.slice(0, 43),
  urlSafe: `${bytes.toString("base64url")}=`,
  urlSafeUnpadded: bytes.toString("base64url"),
  // The last character before the padding carries two unused bits: set them.
  trailingBits: `${good.slice(0, 42)}${String.fromCharCode(good.charCodeAt(42) + 1)}=`,
  extraCharacter: `${good.slice(0, 43)}!`,
  oneCharacterChanged: `${good[0] === "A" ? "B" : "A"}${good.slice(1)}`,
  lowerCased: good.toLowerCase(),
  truncated: good.slice(0, 40),
  tooLong: `${good}AAAA`,
  empty: "",
  nonAscii: `${good.slice(0, 43)}é`,
  wrongMac: randomBytes(32).toString("base64"),
};

const headerLists: Record<string, (signature: string) => string> = {
  single: (s) => `v1,${s}`,
  afterUnknown: (s) => `v2,${good} v1,${s}`,
  beforeAnother: (s) => `v1,${s} v1,${randomBytes(32).toString("base64")}`,
  afterWrong: (s) => `v1,${randomBytes(32).toString("base64")} v1,${s}`,
  doubleSpace: (s) => `v1,${s}  v1a,${s}`,
  leadingSpace: (s) => ` v1,${s}`,
  noComma: (s) => `v1${s}`,
  v1aOnly: (s) => `v1a,${s}`,
};

const headerShapes: Record<string, (signature: string) => HeadersLike> = {
  lowercase: (s) => ({
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": s,
  }),
  mixedCase: (s) => ({
    "Webhook-Id": id,
    "WEBHOOK-TIMESTAMP": String(timestamp),
    "webhook-signature": s,
  }),
  svix: (s) => ({ "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": s }),
  numberTimestamp: (s) => ({
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": s,
  }),
  arraySignature: (s) => ({
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": [s, "v9,x"],
  }),
  fetchHeaders: (s) =>
    new Headers({
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": s,
    }),
};

describe("standard scheme: text comparison and direct header reads", () => {
  it("give the same outcome as decoding and comparing bytes, for every combination", () => {
    let accepted = 0;
    let cases = 0;
    for (const spelling of Object.values(spellings)) {
      for (const list of Object.values(headerLists)) {
        for (const shape of Object.values(headerShapes)) {
          for (const secrets of [[secret], [otherSecret], [otherSecret, secret]]) {
            for (const body of [text, Buffer.from(text)]) {
              const headers = shape(list(spelling));
              const expected = reference(secrets, headers, body);
              const actual = verifyWebhook({ scheme: "standard", secrets, headers, body, now });
              expect(actual).toEqual(expected);
              cases++;
              if (actual.ok) accepted++;
            }
          }
        }
      }
    }
    expect(cases).toBe(13 * 8 * 6 * 3 * 2);
    // Sanity: the grid holds both outcomes.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(cases / 2);
  });

  it("accepts a signature spelled in URL-safe base64, unpadded, or with unused bits set", () => {
    for (const name of ["canonical", "unpadded", "urlSafe", "urlSafeUnpadded", "trailingBits"]) {
      const headers = {
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": `v1,${spellings[name]}`,
      };
      expect(
        verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: text, now }),
      ).toEqual({ ok: true, id, timestamp });
    }
  });

  it("verifies a string body as its UTF-8 bytes, lone surrogates included", () => {
    for (const body of [text, "lone \ud800 surrogate", "\udc00", ""]) {
      const headers = signWebhook({ scheme: "standard", secret, id, timestamp, body });
      const fromBytes = signWebhook({
        scheme: "standard",
        secret,
        id,
        timestamp,
        body: Buffer.from(body),
      });
      expect(headers).toEqual(fromBytes);
      for (const given of [body, Buffer.from(body), new Uint8Array(Buffer.from(body))]) {
        expect(
          verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: given, now }),
        ).toEqual({ ok: true, id, timestamp });
      }
    }
  });

  it("does not reuse the last secret's key for another secret", () => {
    const headers = signWebhook({ scheme: "standard", secret, id, timestamp, body: text });
    const run = (secrets: string[]) =>
      verifyWebhook({ scheme: "standard", secrets, headers, body: text, now });
    expect(run([secret]).ok).toBe(true);
    expect(run([otherSecret])).toMatchObject({ ok: false, code: "signature.invalid" });
    expect(run([secret]).ok).toBe(true);
    expect(run(["whsec_not base64!"])).toMatchObject({ ok: false, code: "secret.invalid" });
    expect(run([secret]).ok).toBe(true);
    expect(run([secret, "whsec_not base64!"])).toMatchObject({ ok: false, code: "secret.invalid" });
    // The same secret text in another string object.
    expect(run([`whsec_${key.toString("base64")}`]).ok).toBe(true);
  });
});

describe("safeEqualAt", () => {
  it("compares the expected text with the same length of another from an offset", () => {
    expect(safeEqualAt("abcd", "xxabcdyy", 2)).toBe(true);
    expect(safeEqualAt("abcd", "xxabceyy", 2)).toBe(false);
    expect(safeEqualAt("abcd", "abcd", 0)).toBe(true);
    expect(safeEqualAt("abcd", "bbcd", 0)).toBe(false);
    expect(safeEqualAt("", "anything", 3)).toBe(true);
    // Past the end reads as 0 in the XOR, unlike any character of a base64 MAC.
    expect(safeEqualAt("abcd", "abc", 0)).toBe(false);
  });
});
