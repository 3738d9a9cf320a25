// Small crypto helpers shared by the schemes: HMAC over parts, constant-time comparison,
// strict decoding of signatures, and a bounded cache of derived keys.
import { createHmac, type KeyObject, timingSafeEqual } from "node:crypto";

type HmacAlgorithm = "sha1" | "sha256" | "sha512";
type DigestEncoding = "hex" | "base64";

export const DIGEST_BYTES: Record<HmacAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export function hmac(
  algorithm: HmacAlgorithm,
  key: string | Uint8Array | KeyObject,
  parts: readonly (string | Uint8Array)[],
): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time equality; unequal lengths are unequal without comparing content. */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Constant-time equality of `expected` with the same number of characters of `text` from
 * `offset` (the caller checks that `text` has them): every character is compared, whatever
 * differs, so the time depends only on the length. Used to compare a MAC's base64 with the
 * signature as received, without decoding it. Both are expected to be ASCII (base64).
 */
export function safeEqualAt(expected: string, text: string, offset: number): boolean {
  let difference = 0;
  for (let i = 0; i < expected.length; i++) {
    difference |= expected.charCodeAt(i) ^ text.charCodeAt(offset + i);
  }
  return difference === 0;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a signature and checks its length; `undefined` when it is not well formed
 * (wrong alphabet, truncated, padded wrongly), which schemes report as `signature.malformed`.
 * No regex on this hot path: Node's decoders stop at (hex) or skip (base64) characters outside
 * the alphabet, so any such character makes the decoded length come out short.
 */
export function decodeDigest(
  text: string,
  encoding: DigestEncoding,
  expectedBytes: number,
): Buffer | undefined {
  if (encoding === "hex") {
    if (text.length !== expectedBytes * 2) return undefined;
    const bytes = Buffer.from(text, "hex");
    return bytes.length === expectedBytes ? bytes : undefined;
  }
  const padded = 4 * Math.ceil(expectedBytes / 3);
  if (text.length !== padded && text.length !== Math.ceil((expectedBytes * 4) / 3)) {
    return undefined;
  }
  const bytes = Buffer.from(text, "base64");
  return bytes.length === expectedBytes ? bytes : undefined;
}

/** Strict standard base64 (padding required); used for keys. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, "base64");
}

/** A tiny bounded map: derived keys are reused across requests without growing forever. */
export class KeyCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity = 256) {}

  get(key: string, derive: (key: string) => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = derive(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, value);
    return value;
  }
}
