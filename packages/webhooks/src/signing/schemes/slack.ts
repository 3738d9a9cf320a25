// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{body}")>` with
// `X-Slack-Request-Timestamp: {ts}`. Timestamped (tolerance window); the dedupe id is the Events
// API `event_id` of a JSON body (slash commands and interactivity carry none).
import { randomBytes } from "node:crypto";
import { DIGEST_BYTES, decodeDigest, hmac, safeEqual } from "../crypto.js";
import { jsonStringField } from "../jsonField.js";
import { checkUnixTimestamp, fail } from "../timestamp.js";
import type { SchemeVerifyInput, VerifyResult, WebhookScheme } from "../types.js";

const VERSION = "v0";

/** A string field of a JSON object body; undefined when the body is not a JSON object. */

/** "v" followed by digits: a signature version this code does not know yet. */
function isVersionToken(text: string): boolean {
  if (text.length < 2 || text.charCodeAt(0) !== 0x76) return false;
  for (let i = 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function signature(secret: string, timestamp: string, body: Uint8Array): Buffer {
  return hmac("sha256", secret, [`${VERSION}:${timestamp}:`, body]);
}

function verify(input: SchemeVerifyInput): VerifyResult {
  const header = input.header("x-slack-signature")?.trim();
  if (header === undefined || header === "") {
    return fail("signature.missing", "The X-Slack-Signature header is missing");
  }
  const rawTimestamp = input.header("x-slack-request-timestamp")?.trim();
  if (rawTimestamp === undefined || rawTimestamp === "") {
    return fail("timestamp.missing", "The X-Slack-Request-Timestamp header is missing");
  }
  const time = checkUnixTimestamp(rawTimestamp, input);
  if (!time.ok) return time;

  const eq = header.indexOf("=");
  if (eq < 0) return fail("signature.malformed", "X-Slack-Signature is not v0=<hex>");
  const version = header.slice(0, eq);
  if (version !== VERSION) {
    return isVersionToken(version)
      ? fail("signature.unsupported", `Unsupported signature version ${JSON.stringify(version)}`)
      : fail("signature.malformed", "X-Slack-Signature is not v0=<hex>");
  }
  const candidate = decodeDigest(header.slice(eq + 1), "hex", DIGEST_BYTES.sha256);
  if (candidate === undefined) {
    return fail("signature.malformed", "The v0 signature is not 64 hex digits");
  }
  for (const secret of input.secrets) {
    if (safeEqual(signature(secret, rawTimestamp, input.body), candidate)) {
      const id = jsonStringField(input.body, "event_id");
      return id === undefined
        ? { ok: true, timestamp: time.seconds }
        : { ok: true, id, timestamp: time.seconds };
    }
  }
  return fail("signature.invalid", "The signature matches no secret");
}

export const slackScheme: WebhookScheme = {
  name: "slack",
  timestamped: true,
  multipleSignatures: false,
  sign({ secrets, body, timestamp }) {
    const [secret] = secrets;
    const ts = String(timestamp);
    return {
      "X-Slack-Signature": `${VERSION}=${signature(secret!, ts, body).toString("hex")}`,
      "X-Slack-Request-Timestamp": ts,
    };
  },
  verify,
  deliveryId(_header, body) {
    return jsonStringField(body, "event_id");
  },
  generateSecret() {
    // Slack signing secrets are 32 hex digits.
    return randomBytes(16).toString("hex");
  },
};
