// The check every outage test ends with: each copy of a message a receiver got (a queue entry,
// a WebSocket frame, a gRPC call) verifies like a webhook with the endpoint's secret.
import { expect } from "vitest";
import { verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";

/** One copy as the receiver got it: the message id it names, the signed headers, the body. */
export interface SignedCopy {
  id: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** Every copy verifies with `secret` as the message it names (a string body is UTF-8). */
export function expectEveryCopyVerifies(secret: string, copies: readonly SignedCopy[]): void {
  for (const copy of copies) {
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: secret,
      headers: copy.headers,
      body: typeof copy.body === "string" ? Buffer.from(copy.body, "utf8") : copy.body,
    });
    expect(verdict).toMatchObject({ ok: true, id: copy.id });
  }
}
