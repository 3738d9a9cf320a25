// GitHub scheme: published vectors, differential tests against @octokit/webhooks-methods, and
// exact error codes.
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateSecret,
  headerReader,
  resolveScheme,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";
import vectors from "../vectors/github.json" with { type: "json" };

const secret = "It's a Secret to Everybody";
const body = '{"action":"opened","number":1}\n';
const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

function signed(over: Record<string, string> = {}, key: string | string[] = secret) {
  return { ...signWebhook({ scheme: "github", secret: key, id: delivery, body }), ...over };
}
const signature = signed()["X-Hub-Signature-256"] as string;
const hex = signature.slice("sha256=".length);

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({ scheme: "github", secrets: [secret], headers: signed(), body, ...over });
}
const only = (value: string) => ({ headers: { "X-Hub-Signature-256": value } });

describe("github scheme: published vectors", () => {
  for (const vector of vectors.vectors) {
    it(`signs and verifies: ${vector.name}`, () => {
      const out = signWebhook({ scheme: "github", secret: vector.secret, body: vector.body });
      expect(out).toEqual({ "X-Hub-Signature-256": vector.signature });
      for (const raw of [vector.body, Buffer.from(vector.body)]) {
        const headers = { "x-hub-signature-256": vector.signature };
        expect(
          verifyWebhook({ scheme: "github", secrets: [vector.secret], headers, body: raw }),
        ).toEqual({
          ok: true,
        });
      }
    });
  }
});

describe("github scheme: differential against @octokit/webhooks-methods", () => {
  const secretArb = fc
    .string({ unit: "binary", minLength: 1, maxLength: 40 })
    .filter((s) => s.trim() !== "");
  // octokit refuses an empty payload, so bodies have at least one character.
  const bodyArb = fc.string({ unit: "binary", minLength: 1, maxLength: 300 });

  it("octokit verifies what we sign, and we verify what octokit signs", async () => {
    await fc.assert(
      fc.asyncProperty(secretArb, bodyArb, async (key, payload) => {
        const ours = signWebhook({ scheme: "github", secret: key, body: payload });
        const sig = ours["X-Hub-Signature-256"] as string;
        expect(await octokitVerify(key, payload, sig)).toBe(true);
        const theirs = await octokitSign(key, payload);
        expect(theirs).toBe(sig);
        for (const raw of [payload, Buffer.from(payload)]) {
          const headers = { "X-Hub-Signature-256": theirs };
          expect(verifyWebhook({ scheme: "github", secrets: [key], headers, body: raw }).ok).toBe(
            true,
          );
        }
      }),
    );
  });

  it("octokit rejects what we reject for another secret", async () => {
    await fc.assert(
      fc.asyncProperty(secretArb, secretArb, bodyArb, async (a, b, payload) => {
        fc.pre(a !== b);
        const sig = await octokitSign(a, payload);
        expect(await octokitVerify(b, payload, sig)).toBe(false);
        const headers = { "X-Hub-Signature-256": sig };
        expect(
          verifyWebhook({ scheme: "github", secrets: [b], headers, body: payload }),
        ).toMatchObject({
          code: "signature.invalid",
        });
      }),
    );
  });
});

describe("github scheme: verification", () => {
  it("accepts a valid signature and returns the delivery id, with no timestamp", () => {
    expect(verify()).toEqual({ ok: true, id: delivery });
  });

  it("has no tolerance window: a delivery verified years later still passes", () => {
    expect(verify({ now: new Date("2099-01-01T00:00:00Z"), toleranceSeconds: 0 }).ok).toBe(true);
  });

  it.each([
    ["wrong secret", { secrets: ["not the secret"] }, "signature.invalid"],
    ["truncated signature", only(signature.slice(0, 40)), "signature.malformed"],
    ["garbled signature (not hex)", only(`sha256=${"g".repeat(64)}`), "signature.malformed"],
    [
      "garbled signature (hex, wrong digit)",
      only(`sha256=${hex.slice(0, -1)}${hex.endsWith("0") ? "1" : "0"}`),
      "signature.invalid",
    ],
    ["no sha256= prefix", only(hex), "signature.malformed"],
    ["empty after prefix", only("sha256="), "signature.malformed"],
    ["sha1= in the sha256 header", only(`sha1=${"ab".repeat(20)}`), "signature.unsupported"],
    [
      "only the legacy SHA-1 header",
      { headers: { "X-Hub-Signature": `sha1=${"ab".repeat(20)}` } },
      "signature.unsupported",
    ],
    ["missing header", { headers: { "X-GitHub-Delivery": delivery } }, "signature.missing"],
    ["empty header", only(" "), "signature.missing"],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["whitespace secret", { secrets: ["  "] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
    ["body changed", { body: body.trimEnd() }, "signature.invalid"],
  ] as const)("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code });
  });

  it("signs with the first secret only, and verifies against every secret (rotation)", () => {
    const next = "the next secret";
    const out = signed({}, [next, secret]);
    expect(Object.keys(out)).toEqual(["X-Hub-Signature-256", "X-GitHub-Delivery"]);
    expect(verify({ headers: out, secrets: [next] }).ok).toBe(true);
    expect(verify({ headers: out, secrets: [secret] })).toMatchObject({
      code: "signature.invalid",
    });
    expect(verify({ headers: out, secrets: [secret, next] }).ok).toBe(true);
  });

  it("verifies raw bytes: unusual whitespace and non-ASCII, string and Buffer alike", () => {
    const text = '\r\n\t {"title":"Grüße 🚀\u00a0","body":"line\\r\\n"}\n\n';
    const fromString = signWebhook({ scheme: "github", secret, body: text });
    expect(signWebhook({ scheme: "github", secret, body: Buffer.from(text) })).toEqual(fromString);
    for (const raw of [text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      expect(verify({ headers: fromString, body: raw })).toEqual({ ok: true });
    }
    expect(verify({ headers: fromString, body: text.normalize("NFD") }).ok).toBe(false);
    const bytes = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff]);
    const binary = signWebhook({ scheme: "github", secret, body: bytes });
    expect(verify({ headers: binary, body: bytes })).toEqual({ ok: true });
  });

  it("reads headers in any letter case and from a fetch Headers object", () => {
    const mixed = { "X-HUB-SIGNATURE-256": signature, "x-github-DELIVERY": delivery };
    expect(verify({ headers: mixed })).toEqual({ ok: true, id: delivery });
    expect(verify({ headers: new Headers(signed()) })).toEqual({ ok: true, id: delivery });
  });

  it("generates a 64-hex-digit secret", () => {
    expect(generateSecret("github")).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("github scheme: deliveryId", () => {
  const scheme = resolveScheme("github");
  it("is the X-GitHub-Delivery header, sent by sign when an id is given", () => {
    expect(scheme.deliveryId(headerReader(signed()), Buffer.from(body))).toBe(delivery);
    expect(scheme.deliveryId(headerReader({}), Buffer.from(body))).toBeUndefined();
    expect(
      scheme.deliveryId(headerReader({ "X-GitHub-Delivery": "" }), Buffer.from(body)),
    ).toBeUndefined();
    const withoutId = signWebhook({ scheme: "github", secret, body });
    expect(Object.keys(withoutId)).toEqual(["X-Hub-Signature-256"]);
    expect(verify({ headers: withoutId })).toEqual({ ok: true });
  });
});
