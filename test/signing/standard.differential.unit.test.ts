// Standard Webhooks: differential tests against the reference `standardwebhooks` package — each
// side verifies what the other signs, and both refuse a mutated signature or body.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/index.js";

const secretArb = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => `whsec_${Buffer.from(bytes).toString("base64")}`);
const idArb = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/);
// The package signs `payload.toString()`, so bodies are strings or their UTF-8 bytes (see below).
const textArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom(
      " ",
      "\t",
      "\r",
      "\n",
      "\u00a0",
      "\u2003",
      "é",
      "\u{1f600}",
      "{",
      "}",
      '"',
      "a",
    ),
  }),
);
const bodyArb = fc.oneof(
  textArb,
  textArb.map((text) => Buffer.from(text, "utf8")),
);
const offsetArb = fc.integer({ min: -200, max: 200 });

function asBuffer(body: string | Buffer): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

/** The body with one byte changed (or one added when it is empty). */
function mutated(body: string | Buffer, at: number): Buffer {
  const bytes = Buffer.from(asBuffer(body));
  if (bytes.length === 0) return Buffer.from("x");
  const index = at % bytes.length;
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return bytes;
}

/** The signature header with one base64 character of its first entry changed. */
function garbled(header: string): string {
  const at = 3;
  return `${header.slice(0, at)}${header[at] === "A" ? "B" : "A"}${header.slice(at + 1)}`;
}

function theirVerify(secret: string, body: string | Buffer, headers: Record<string, string>) {
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

describe("standard scheme: differential against the standardwebhooks package", () => {
  it("they verify what we sign; a mutated signature or body fails on both sides", () => {
    fc.assert(
      fc.property(
        secretArb,
        idArb,
        offsetArb,
        bodyArb,
        fc.nat(),
        (secret, id, offset, body, at) => {
          const timestamp = Math.floor(Date.now() / 1000) + offset;
          const headers = signWebhook({ scheme: "standard", secret, id, timestamp, body });
          expect(theirVerify(secret, body, headers)).toBe(true);
          const ours = verifyWebhook({ scheme: "standard", secrets: [secret], headers, body });
          expect(ours).toEqual({ ok: true, id, timestamp });

          const badSignature = {
            ...headers,
            "webhook-signature": garbled(headers["webhook-signature"] as string),
          };
          expect(theirVerify(secret, body, badSignature)).toBe(false);
          expect(
            verifyWebhook({ scheme: "standard", secrets: [secret], headers: badSignature, body }),
          ).toMatchObject({
            ok: false,
            code: "signature.invalid",
          });
          const badBody = mutated(body, at);
          expect(theirVerify(secret, badBody, headers)).toBe(false);
          expect(
            verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: badBody }),
          ).toMatchObject({
            ok: false,
            code: "signature.invalid",
          });
        },
      ),
    );
  });

  it("we verify what they sign, as a string or as raw bytes", () => {
    fc.assert(
      fc.property(
        secretArb,
        idArb,
        offsetArb,
        bodyArb,
        fc.nat(),
        (secret, id, offset, body, at) => {
          const timestamp = Math.floor(Date.now() / 1000) + offset;
          const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
          const headers = {
            "webhook-id": id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signature,
          };
          for (const raw of [body, asBuffer(body), new Uint8Array(asBuffer(body))]) {
            expect(
              verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: raw }),
            ).toEqual({
              ok: true,
              id,
              timestamp,
            });
          }
          const badBody = mutated(body, at);
          expect(
            verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: badBody }),
          ).toMatchObject({
            ok: false,
            code: "signature.invalid",
          });
          expect(theirVerify(secret, badBody, headers)).toBe(false);
        },
      ),
    );
  });

  it("known difference: the package signs Buffers as decoded text, we sign the exact bytes", () => {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const signature = new Webhook(secret).sign("msg_1", new Date(timestamp * 1000), notUtf8);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
    };
    // Their signature covers U+FFFD replacements, not the bytes that were on the wire.
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: notUtf8 }).ok,
    ).toBe(false);
    const replaced = Buffer.from(notUtf8.toString("utf8"), "utf8");
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: replaced }).ok,
    ).toBe(true);
  });
});
