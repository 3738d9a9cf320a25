// Stripe scheme: published vectors, differential tests against stripe-node, and exact error codes.
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  generateSecret,
  headerReader,
  resolveScheme,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";
import { hmac } from "../../packages/webhooks/src/signing/crypto.js";
import vectors from "../vectors/stripe.json" with { type: "json" };

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"charge.succeeded"}';
const timestamp = 1_700_000_000;
const now = new Date(timestamp * 1000);

function signed(over: Record<string, string> = {}, key: string | string[] = secret) {
  return { ...signWebhook({ scheme: "stripe", secret: key, timestamp, body }), ...over };
}
const header = signed()["Stripe-Signature"] as string;
const v1 = header.slice(header.indexOf("v1=") + 3);

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({
    scheme: "stripe",
    secrets: [secret],
    headers: signed(),
    body,
    now,
    ...over,
  });
}
function withHeader(value: string) {
  return verify({ headers: { "Stripe-Signature": value } });
}

describe("stripe scheme: published vectors", () => {
  for (const vector of vectors.headers) {
    it(`verifies: ${vector.name}`, () => {
      const at = new Date((vector.timestamp + 100) * 1000);
      for (const raw of [vector.body, Buffer.from(vector.body)]) {
        const result = verifyWebhook({
          scheme: "stripe",
          secrets: [vector.secret],
          headers: { "Stripe-Signature": vector.header },
          body: raw,
          now: at,
        });
        expect(result).toEqual({ ok: true, id: vector.id, timestamp: vector.timestamp });
      }
    });

    it(`signs the same v1: ${vector.name}`, () => {
      const out = signWebhook({
        scheme: "stripe",
        secret: vector.secret,
        timestamp: vector.timestamp,
        body: vector.body,
      });
      expect(out).toEqual({ "Stripe-Signature": `t=${vector.timestamp},v1=${vector.v1}` });
    });
  }

  for (const vector of vectors.hmacPrimitive.cases) {
    it(`HMAC-SHA256 primitive (stripe-node CryptoProvider suite): ${vector.name}`, () => {
      expect(hmac("sha256", vectors.hmacPrimitive.secret, [vector.payload]).toString("hex")).toBe(
        vector.hex,
      );
    });
  }
});

describe("stripe scheme: differential against stripe-node", () => {
  const secretArb = fc
    .string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 })
    .map((s) => `whsec_${s.replace(/\s/g, "x")}`);
  // stripe-node refuses an empty payload, so bodies have at least one character.
  const bodyArb = fc.string({ unit: "binary", minLength: 1, maxLength: 300 });
  const timeArb = fc.integer({ min: 1, max: 4_000_000_000 });

  it("stripe-node accepts every header we sign (all rotation entries)", () => {
    fc.assert(
      fc.property(secretArb, secretArb, bodyArb, timeArb, (a, b, payload, t) => {
        const out = signWebhook({ scheme: "stripe", secret: [a, b], timestamp: t, body: payload });
        const sig = out["Stripe-Signature"] as string;
        for (const key of [a, b]) {
          expect(
            Stripe.webhooks.signature?.verifyHeader(payload, sig, key, 300, undefined, t * 1000),
          ).toBe(true);
        }
      }),
    );
  });

  it("we accept every header stripe-node generates, for string and byte bodies", () => {
    fc.assert(
      fc.property(secretArb, bodyArb, timeArb, (key, payload, t) => {
        const sig = Stripe.webhooks.generateTestHeaderString({
          payload,
          secret: key,
          timestamp: t,
        });
        for (const raw of [payload, Buffer.from(payload)]) {
          const result = verifyWebhook({
            scheme: "stripe",
            secrets: [key],
            headers: { "stripe-signature": sig },
            body: raw,
            now: new Date(t * 1000),
          });
          expect(result).toMatchObject({ ok: true, timestamp: t });
        }
      }),
    );
  });

  it("constructEvent parses the event we sign, and our deliveryId is its id", () => {
    fc.assert(
      fc.property(secretArb, fc.string({ minLength: 1, maxLength: 30 }), (key, id) => {
        const payload = JSON.stringify({ id, object: "event", type: "charge.succeeded" }, null, 2);
        const out = signWebhook({ scheme: "stripe", secret: key, timestamp, body: payload });
        const event = Stripe.webhooks.constructEvent(
          payload,
          out["Stripe-Signature"] as string,
          key,
          300,
          undefined,
          timestamp * 1000,
        );
        expect(event.id).toBe(id);
        const result = verifyWebhook({
          scheme: "stripe",
          secrets: [key],
          headers: out,
          body: payload,
          now,
        });
        expect(result).toEqual({ ok: true, id, timestamp });
      }),
    );
  });

  it("a generated secret is whsec_ + 32 alphanumerics and works with stripe-node", () => {
    const key = generateSecret("stripe");
    expect(key).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    expect(generateSecret("stripe")).not.toBe(key);
    const out = signWebhook({ scheme: "stripe", secret: key, timestamp, body });
    expect(
      Stripe.webhooks.signature?.verifyHeader(
        body,
        out["Stripe-Signature"] as string,
        key,
        300,
        undefined,
        timestamp * 1000,
      ),
    ).toBe(true);
  });
});

describe("stripe scheme: verification", () => {
  it("accepts a valid header and returns the event id and timestamp", () => {
    expect(verify()).toEqual({ ok: true, id: "evt_1NG8Du2eZvKYlo2CUI79vXWy", timestamp });
  });

  it("ignores v0 and unknown schemes, and unreadable v1 entries, when a valid v1 is present", () => {
    const v0 = `v0=${"ab".repeat(32)}`;
    expect(withHeader(`t=${timestamp},${v0},v1=${v1}`).ok).toBe(true);
    expect(withHeader(`t=${timestamp},v2=xyz,v1=potato,v1=${v1}`).ok).toBe(true);
    expect(withHeader(`t=${timestamp}, v1=${v1}`).ok).toBe(true);
  });

  it.each([
    ["wrong secret", { secrets: ["whsec_another"] }, "signature.invalid"],
    [
      "truncated v1",
      { headers: { "Stripe-Signature": `t=${timestamp},v1=${v1.slice(0, 40)}` } },
      "signature.malformed",
    ],
    [
      "garbled v1 (not hex)",
      { headers: { "Stripe-Signature": `t=${timestamp},v1=${"zz".repeat(32)}` } },
      "signature.malformed",
    ],
    [
      "garbled v1 (hex, wrong digit)",
      {
        headers: {
          "Stripe-Signature": `t=${timestamp},v1=${v1.slice(0, -1)}${v1.endsWith("0") ? "1" : "0"}`,
        },
      },
      "signature.invalid",
    ],
    [
      "only v0",
      { headers: { "Stripe-Signature": `t=${timestamp},v0=${v1}` } },
      "signature.unsupported",
    ],
    [
      "entry without =",
      { headers: { "Stripe-Signature": `t=${timestamp},${v1}` } },
      "signature.malformed",
    ],
    [
      "no signature entry",
      { headers: { "Stripe-Signature": `t=${timestamp}` } },
      "signature.malformed",
    ],
    [
      "two timestamps",
      { headers: { "Stripe-Signature": `t=${timestamp},t=1,v1=${v1}` } },
      "signature.malformed",
    ],
    ["missing header", { headers: { "content-type": "application/json" } }, "signature.missing"],
    ["empty header", { headers: { "Stripe-Signature": "" } }, "signature.missing"],
    ["no t=", { headers: { "Stripe-Signature": `v1=${v1}` } }, "timestamp.missing"],
    ["non-numeric t", { headers: { "Stripe-Signature": `t=soon,v1=${v1}` } }, "timestamp.invalid"],
    ["timestamp past tolerance", { now: new Date((timestamp + 301) * 1000) }, "timestamp.stale"],
    [
      "timestamp beyond tolerance in the future",
      { now: new Date((timestamp - 301) * 1000) },
      "timestamp.future",
    ],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["secret with a trailing newline", { secrets: [`${secret}\n`] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
    ["body changed", { body: `${body}\n` }, "signature.invalid"],
  ] as const)("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code });
  });

  it("signs with every secret and accepts any of several (rotation)", () => {
    const next = "whsec_nextSecretAfterRotation0000";
    const both = signed({}, [next, secret]);
    expect((both["Stripe-Signature"] as string).split(",")).toHaveLength(3);
    expect(verify({ headers: both }).ok).toBe(true);
    expect(verify({ headers: both, secrets: [next] }).ok).toBe(true);
    expect(verify({ secrets: ["whsec_unrelated", secret] }).ok).toBe(true);
    expect(verify({ secrets: ["whsec_unrelated", next] })).toMatchObject({
      code: "signature.invalid",
    });
  });

  it("verifies raw bytes: unusual whitespace and non-ASCII, string and Buffer alike", () => {
    const text = ' \t{"id":"evt_ü","note":"naïve café 😀\u00a0\u2028"}\r\n\r\n ';
    const fromString = signWebhook({ scheme: "stripe", secret, timestamp, body: text });
    const fromBuffer = signWebhook({
      scheme: "stripe",
      secret,
      timestamp,
      body: Buffer.from(text),
    });
    expect(fromBuffer).toEqual(fromString);
    for (const raw of [text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      expect(verify({ headers: fromString, body: raw })).toEqual({
        ok: true,
        id: "evt_ü",
        timestamp,
      });
    }
    expect(verify({ headers: fromString, body: text.trim() }).ok).toBe(false);
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80]);
    const binary = signWebhook({ scheme: "stripe", secret, timestamp, body: bytes });
    expect(verify({ headers: binary, body: bytes })).toEqual({ ok: true, timestamp });
  });

  it("reads headers in any letter case and from a fetch Headers object", () => {
    expect(verify({ headers: { "sTrIpE-sIgNaTuRe": header } }).ok).toBe(true);
    expect(verify({ headers: new Headers(signed()) }).ok).toBe(true);
  });

  it("applies the tolerance to receivedAt and to a custom window", () => {
    const later = new Date((timestamp + 3600) * 1000);
    expect(verify({ now: later })).toMatchObject({ code: "timestamp.stale" });
    expect(verify({ now: later, receivedAt: now }).ok).toBe(true);
    expect(verify({ now: later, toleranceSeconds: 3600 }).ok).toBe(true);
  });
});

describe("stripe scheme: deliveryId", () => {
  const scheme = resolveScheme("stripe");
  const read = headerReader({});
  it.each([
    ['{"id":"evt_123","object":"event"}', "evt_123"],
    ['\n  {"object":"event","id":"evt_9"}', "evt_9"],
    ['{"id":42}', undefined],
    ['{"id":""}', undefined],
    ['["evt_123"]', undefined],
    ["id=evt_123", undefined],
    ['{"id":"evt_123"', undefined],
    ["", undefined],
  ])("%j → %s", (text, id) => {
    expect(scheme.deliveryId(read, Buffer.from(text))).toBe(id);
  });

  it("leaves id out of a valid result whose body is not a JSON event", () => {
    const out = signWebhook({ scheme: "stripe", secret, timestamp, body: "plain text" });
    expect(verify({ headers: out, body: "plain text" })).toEqual({ ok: true, timestamp });
  });
});
