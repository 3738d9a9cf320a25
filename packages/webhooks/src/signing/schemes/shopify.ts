// Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(app secret, body)>`. No timestamp is
// signed, so there is no tolerance window; the dedupe id is the `X-Shopify-Webhook-Id` header.
import { randomBytes } from "node:crypto";
import { DIGEST_BYTES, decodeDigest, hmac, safeEqual } from "../crypto.js";
import { fail } from "../timestamp.js";
import type { HeaderReader, SchemeVerifyInput, VerifyResult, WebhookScheme } from "../types.js";

function deliveryId(read: HeaderReader): string | undefined {
  return read("x-shopify-webhook-id")?.trim() || undefined;
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const header = input.header("x-shopify-hmac-sha256")?.trim();
  if (header === undefined || header === "") {
    return fail("signature.missing", "The X-Shopify-Hmac-Sha256 header is missing");
  }
  const candidate = decodeDigest(header, "base64", DIGEST_BYTES.sha256);
  if (candidate === undefined) {
    return fail("signature.malformed", "X-Shopify-Hmac-Sha256 is not base64 of 32 bytes");
  }
  for (const secret of input.secrets) {
    if (safeEqual(hmac("sha256", secret, [input.body]), candidate)) {
      const id = deliveryId(input.header);
      return id === undefined ? { ok: true } : { ok: true, id };
    }
  }
  return fail("signature.invalid", "The signature matches no secret");
}

export const shopifyScheme: WebhookScheme = {
  name: "shopify",
  timestamped: false,
  multipleSignatures: false,
  sign({ secrets, body, id }) {
    const [secret] = secrets;
    const headers: Record<string, string> = {
      "X-Shopify-Hmac-Sha256": hmac("sha256", secret!, [body]).toString("base64"),
    };
    if (id !== undefined && id !== "") headers["X-Shopify-Webhook-Id"] = id;
    return headers;
  },
  verify,
  deliveryId,
  generateSecret() {
    return randomBytes(32).toString("hex");
  },
};
