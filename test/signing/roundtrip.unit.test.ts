// Round-trip property for every registered scheme: what signWebhook produces verifies, and one
// flipped body byte is refused (signature.invalid; body.mismatch for Twilio's JSON variant).
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateSecret, signWebhook, verifyWebhook } from "../../packages/webhooks/src/index.js";
import { schemeNames } from "../../packages/webhooks/src/signing/registry.js";

interface Case {
  body: Uint8Array;
  url: string;
}

const base = "https://hooks.example.com/in/receiver?tenant=acme";
const anyBytes = fc.uint8Array({ minLength: 1, maxLength: 400 });
const defaultCase = anyBytes.map((body): Case => ({ body, url: base }));

/**
 * Twilio signs form parameters, not bytes: a body flip can be invisible there only when it keeps
 * the parameters (e.g. %4a vs %4A), so its form bodies are encoded as Twilio encodes them.
 */
const variants: Record<string, fc.Arbitrary<Case>[]> = {
  twilio: [
    fc
      .array(
        fc.tuple(
          fc.string({ unit: "binary", maxLength: 10 }),
          fc.string({ unit: "binary", maxLength: 10 }),
        ),
        {
          minLength: 1,
          maxLength: 6,
        },
      )
      .map(
        (pairs): Case => ({ body: Buffer.from(new URLSearchParams(pairs).toString()), url: base }),
      ),
    anyBytes.map((body): Case => {
      const hash = createHash("sha256").update(body).digest("hex");
      return { body, url: `${base}&bodySHA256=${hash}` };
    }),
  ],
};

const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const timestamp = 1_750_000_000;
const now = new Date(timestamp * 1000);

describe("every scheme round-trips", () => {
  it("knows every scheme this helper and its siblings add", () => {
    expect(schemeNames).toEqual(expect.arrayContaining(["standard", "twilio", "eventing", "hmac"]));
  });

  for (const name of schemeNames) {
    for (const [index, variant] of (variants[name] ?? [defaultCase]).entries()) {
      it(`${name}${index > 0 ? ` (variant ${index + 1})` : ""}: sign → verify; a flipped body byte fails`, () => {
        fc.assert(
          fc.property(variant, idArb, fc.nat(), ({ body, url }, id, at) => {
            const secret = generateSecret(name);
            const headers = signWebhook({ scheme: name, secret, id, timestamp, body, url });
            const verified = verifyWebhook({
              scheme: name,
              secrets: [secret],
              headers,
              body,
              url,
              now,
            });
            expect(verified.ok).toBe(true);
            const flipped = Uint8Array.from(body);
            const index = at % flipped.length;
            flipped[index] = (flipped[index] as number) ^ 0x01;
            const result = verifyWebhook({
              scheme: name,
              secrets: [secret],
              headers,
              body: flipped,
              url,
              now,
            });
            const code = url.includes("bodySHA256=") ? "body.mismatch" : "signature.invalid";
            expect(result).toMatchObject({ ok: false, code });
          }),
        );
      });
    }
  }
});
