// Shopify scheme: the published library vector, property round-trips against the documented
// recipe, and exact error codes.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateSecret,
  headerReader,
  resolveScheme,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";
import vectors from "../vectors/shopify.json" with { type: "json" };

const secret = "test_secret_key";
const body = '{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00"}';
const webhookId = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";

function signed(over: Record<string, string> = {}, key: string | string[] = secret) {
  return { ...signWebhook({ scheme: "shopify", secret: key, id: webhookId, body }), ...over };
}
const signature = signed()["X-Shopify-Hmac-Sha256"] as string;
const digest = Buffer.from(signature, "base64");

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({ scheme: "shopify", secrets: [secret], headers: signed(), body, ...over });
}
const only = (value: string) => ({ headers: { "X-Shopify-Hmac-Sha256": value } });

describe("shopify scheme: published vectors", () => {
  for (const vector of vectors.vectors) {
    it(`signs and verifies: ${vector.name}`, () => {
      const out = signWebhook({
        scheme: "shopify",
        secret: vector.secret,
        id: vector.webhookId,
        body: vector.body,
      });
      expect(out).toEqual({
        "X-Shopify-Hmac-Sha256": vector.hmac,
        "X-Shopify-Webhook-Id": vector.webhookId,
      });
      const headers = {
        "X-Shopify-Hmac-Sha256": vector.hmac,
        "X-Shopify-Webhook-Id": vector.webhookId,
      };
      for (const raw of [vector.body, Buffer.from(vector.body)]) {
        expect(
          verifyWebhook({ scheme: "shopify", secrets: [vector.secret], headers, body: raw }),
        ).toEqual({
          ok: true,
          id: vector.webhookId,
        });
      }
    });
  }
});

describe("shopify scheme: properties", () => {
  // The recipe from Shopify's docs, written independently of the scheme module.
  const reference = (key: string, payload: Buffer) =>
    createHmac("sha256", key).update(payload).digest("base64");

  it("matches the documented recipe and round-trips for any body and secret", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
        fc.uint8Array({ maxLength: 300 }),
        (key, bytes) => {
          const payload = Buffer.from(bytes);
          const out = signWebhook({ scheme: "shopify", secret: key, body: payload });
          expect(out["X-Shopify-Hmac-Sha256"]).toBe(reference(key, payload));
          expect(
            verifyWebhook({ scheme: "shopify", secrets: [key], headers: out, body: payload }),
          ).toEqual({
            ok: true,
          });
        },
      ),
    );
  });
});

describe("shopify scheme: verification", () => {
  it("accepts a valid signature and returns the webhook id, with no timestamp", () => {
    expect(verify()).toEqual({ ok: true, id: webhookId });
  });

  it("has no tolerance window", () => {
    expect(verify({ now: new Date("2099-01-01T00:00:00Z"), toleranceSeconds: 0 }).ok).toBe(true);
  });

  it("tolerates surrounding whitespace in the header value", () => {
    expect(verify(only(`${signature}\n`)).ok).toBe(true);
  });

  it.each([
    ["wrong secret", { secrets: ["another_secret"] }, "signature.invalid"],
    ["truncated signature", only(signature.slice(0, 20)), "signature.malformed"],
    [
      "garbled signature (not base64)",
      only(`${signature.slice(0, -4)}!!!=`),
      "signature.malformed",
    ],
    ["31 bytes of base64", only(digest.subarray(0, 31).toString("base64")), "signature.malformed"],
    ["hex instead of base64", only(digest.toString("hex")), "signature.malformed"],
    [
      "garbled signature (valid base64, other bytes)",
      only(Buffer.from(digest.map((b) => b ^ 1)).toString("base64")),
      "signature.invalid",
    ],
    ["missing header", { headers: { "X-Shopify-Webhook-Id": webhookId } }, "signature.missing"],
    ["empty header", only(""), "signature.missing"],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
    ["body changed", { body: body.replace("199.00", "1.00") }, "signature.invalid"],
  ] as const)("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code });
  });

  it("signs with the first secret only, and verifies against every secret (rotation)", () => {
    const next = "next_secret_key";
    const out = signed({}, [next, secret]);
    expect(verify({ headers: out, secrets: [secret] })).toMatchObject({
      code: "signature.invalid",
    });
    expect(verify({ headers: out, secrets: [secret, next] })).toEqual({ ok: true, id: webhookId });
  });

  it("verifies raw bytes: unusual whitespace and non-ASCII, string and Buffer alike", () => {
    const text = '  {"title":"Überraschung — 日本語 ✓","note":"\\t"}\n\t\n';
    const fromString = signWebhook({ scheme: "shopify", secret, body: text });
    expect(signWebhook({ scheme: "shopify", secret, body: Buffer.from(text) })).toEqual(fromString);
    for (const raw of [text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      expect(verify({ headers: fromString, body: raw })).toEqual({ ok: true });
    }
    expect(verify({ headers: fromString, body: Buffer.from(text, "latin1") }).ok).toBe(false);
  });

  it("reads headers in any letter case and from a fetch Headers object", () => {
    const mixed = { "x-shopify-HMAC-sha256": signature, "X-SHOPIFY-WEBHOOK-ID": webhookId };
    expect(verify({ headers: mixed })).toEqual({ ok: true, id: webhookId });
    expect(verify({ headers: new Headers(signed()) })).toEqual({ ok: true, id: webhookId });
  });

  it("generates a 64-hex-digit secret", () => {
    expect(generateSecret("shopify")).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("shopify scheme: deliveryId", () => {
  const scheme = resolveScheme("shopify");
  it("is the X-Shopify-Webhook-Id header, sent by sign when an id is given", () => {
    expect(scheme.deliveryId(headerReader(signed()), Buffer.from(body))).toBe(webhookId);
    expect(scheme.deliveryId(headerReader({}), Buffer.from(body))).toBeUndefined();
    const withoutId = signWebhook({ scheme: "shopify", secret, body });
    expect(Object.keys(withoutId)).toEqual(["X-Shopify-Hmac-Sha256"]);
    expect(verify({ headers: withoutId })).toEqual({ ok: true });
  });
});
