// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. No timestamp is signed,
// so there is no tolerance window; the dedupe id is the `X-GitHub-Delivery` header. The legacy
// SHA-1 `X-Hub-Signature` header is recognised only to say it is not accepted.
import { randomBytes } from "node:crypto";
import { DIGEST_BYTES, decodeDigest, hmac, safeEqual } from "../crypto.js";
import { fail } from "../timestamp.js";
import type { HeaderReader, SchemeVerifyInput, VerifyResult, WebhookScheme } from "../types.js";

const PREFIX = "sha256=";

function deliveryId(read: HeaderReader): string | undefined {
  return read("x-github-delivery")?.trim() || undefined;
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const header = input.header("x-hub-signature-256")?.trim();
  if (header === undefined || header === "") {
    if (input.header("x-hub-signature")?.trim()) {
      return fail(
        "signature.unsupported",
        "Only the SHA-1 X-Hub-Signature header is present; X-Hub-Signature-256 is required",
      );
    }
    return fail("signature.missing", "The X-Hub-Signature-256 header is missing");
  }
  if (!header.startsWith(PREFIX)) {
    const eq = header.indexOf("=");
    return eq > 0
      ? fail(
          "signature.unsupported",
          `Unsupported algorithm ${JSON.stringify(header.slice(0, eq))}`,
        )
      : fail("signature.malformed", "X-Hub-Signature-256 does not start with sha256=");
  }
  const candidate = decodeDigest(header.slice(PREFIX.length), "hex", DIGEST_BYTES.sha256);
  if (candidate === undefined) {
    return fail("signature.malformed", "The sha256= signature is not 64 hex digits");
  }
  for (const secret of input.secrets) {
    if (safeEqual(hmac("sha256", secret, [input.body]), candidate)) {
      const id = deliveryId(input.header);
      return id === undefined ? { ok: true } : { ok: true, id };
    }
  }
  return fail("signature.invalid", "The signature matches no secret");
}

export const githubScheme: WebhookScheme = {
  name: "github",
  timestamped: false,
  multipleSignatures: false,
  sign({ secrets, body, id }) {
    const [secret] = secrets;
    const headers: Record<string, string> = {
      "X-Hub-Signature-256": `${PREFIX}${hmac("sha256", secret!, [body]).toString("hex")}`,
    };
    if (id !== undefined && id !== "") headers["X-GitHub-Delivery"] = id;
    return headers;
  },
  verify,
  deliveryId,
  generateSecret() {
    return randomBytes(32).toString("hex");
  },
};
