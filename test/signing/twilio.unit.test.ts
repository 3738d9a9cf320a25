// Twilio scheme: twilio-node's published vectors, differential tests against the `twilio`
// package (validateRequest, getExpectedTwilioSignature, validateRequestWithBody), exact error codes.
import { createHash } from "node:crypto";
import { parse as parseQuery } from "node:querystring";
import fc from "fast-check";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import {
  headerReader,
  resolveScheme,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";
import { withTwilioBodyHash } from "../../packages/webhooks/src/signing/schemes/twilio.js";
import vectors from "../vectors/twilio.json" with { type: "json" };

type Params = Record<string, string | string[] | undefined>;

/** The raw application/x-www-form-urlencoded body Twilio would send for these params. */
function formBody(params: Params | [string, string][]): string {
  const form = new URLSearchParams();
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  for (const [key, value] of pairs) {
    for (const one of Array.isArray(value) ? value : [value ?? ""]) form.append(key, one);
  }
  return form.toString();
}

const token = vectors.token;
const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const docsParams = vectors.form[0]?.params as Params;
const body = formBody(docsParams);
const signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({
    scheme: "twilio",
    secrets: [token],
    headers: { "X-Twilio-Signature": signature },
    body,
    url,
    ...over,
  });
}

describe("twilio scheme: published vectors (twilio-node)", () => {
  const all = [
    ...vectors.form.map((v) => ({ ...v, body: formBody(v.params as Params) })),
    ...vectors.json,
  ];
  for (const vector of all) {
    it(`verifies${vector.exact ? " and signs" : ""}: ${vector.name}`, () => {
      const headers = { "x-twilio-signature": vector.signature };
      const base = { scheme: "twilio" as const, body: vector.body, url: vector.url };
      expect(verifyWebhook({ ...base, secrets: [token], headers })).toEqual({ ok: true });
      if (vector.exact) {
        expect(signWebhook({ ...base, secret: token })).toEqual({
          "X-Twilio-Signature": vector.signature,
        });
      }
    });
  }

  it("the docs example verifies whatever order the params come in", () => {
    const reversed = formBody(Object.entries(docsParams).reverse() as [string, string][]);
    expect(verify({ body: reversed })).toEqual({ ok: true });
  });
});

describe("twilio scheme: differential against the twilio package", () => {
  const text = fc.string({ unit: "binary", maxLength: 12 });
  const pairs = fc.array(fc.tuple(text, text), { maxLength: 8 });
  const tokenArb = fc
    .string({ unit: "binary", minLength: 1, maxLength: 40 })
    .filter((s) => s.trim() !== "");
  const urlArb = fc.webUrl({
    withQueryParameters: true,
    authoritySettings: { withPort: true, withUserInfo: true },
  });
  // Raw bodies mixing separators, escapes (valid, invalid, not UTF-8), "+" and control bytes.
  // ASCII only: Node's querystring reads raw non-ASCII next to an escape as Latin-1, and Twilio
  // escapes every non-ASCII byte anyway (raw UTF-8 is covered by the encoded bodies and below).
  const rawForm = fc
    .array(
      fc.constantFrom("a", "B", "=", "&", "%", "2", "F", "E9", "%C3%A9", "+", " ", "\t", "?"),
      {
        maxLength: 30,
      },
    )
    .map((parts) => parts.join(""));

  /** What a Node body parser (querystring, as express.urlencoded({ extended: false })) hands twilio. */
  const parsed = (raw: string) => parseQuery(raw) as Params;

  it("signs form bodies exactly like getExpectedTwilioSignature, both ways verify", () => {
    fc.assert(
      fc.property(tokenArb, urlArb, fc.oneof(pairs.map(formBody), rawForm), (key, target, raw) => {
        const params = parsed(raw);
        const theirs = twilio.getExpectedTwilioSignature(key, target, params);
        const ours = signWebhook({ scheme: "twilio", secret: key, url: target, body: raw });
        expect(ours["X-Twilio-Signature"]).toBe(theirs);
        const headers = { "X-Twilio-Signature": theirs };
        expect(
          verifyWebhook({ scheme: "twilio", secrets: [key], headers, body: raw, url: target }).ok,
        ).toBe(true);
        expect(twilio.validateRequest(key, theirs, target, params)).toBe(true);
        const garbled = `${theirs[0] === "A" ? "B" : "A"}${theirs.slice(1)}`;
        const bad = { "X-Twilio-Signature": garbled };
        expect(
          verifyWebhook({ scheme: "twilio", secrets: [key], headers: bad, body: raw, url: target }),
        ).toMatchObject({
          ok: false,
          code: "signature.invalid",
        });
        expect(twilio.validateRequest(key, garbled, target, params)).toBe(false);
      }),
    );
  });

  it("accepts the same URL variants (port added or removed, normalised) as validateRequest", () => {
    const portArb = fc.oneof(
      fc.constant(""),
      fc.constantFrom(":443", ":80"),
      fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`),
    );
    const pathArb = fc.tuple(fc.webPath(), fc.option(fc.webQueryParameters(), { nil: undefined }));
    fc.assert(
      fc.property(
        tokenArb,
        fc.constantFrom("http://", "https://", "HTTPS://"),
        fc.constantFrom("", "user@", "user:pa%40ss@"),
        fc.domain(),
        portArb,
        portArb,
        pathArb,
        pairs,
        (key, scheme, user, host, signedPort, receivedPort, [path, query], form) => {
          const start = `${scheme}${user}${host}`;
          const rest = `${path}${query === undefined ? "" : `?${query}`}`;
          const signedUrl = `${start}${signedPort}${rest}`;
          const receivedUrl = `${start}${receivedPort}${rest}`;
          const raw = formBody(form);
          const params = parsed(raw);
          const sig = twilio.getExpectedTwilioSignature(key, signedUrl, params);
          const headers = { "X-Twilio-Signature": sig };
          const ours = verifyWebhook({
            scheme: "twilio",
            secrets: [key],
            headers,
            body: raw,
            url: receivedUrl,
          });
          expect(ours.ok).toBe(twilio.validateRequest(key, sig, receivedUrl, params));
        },
      ),
    );
  });

  it("verifies JSON bodies by bodySHA256 exactly like validateRequestWithBody", () => {
    const noFragment = urlArb.map((u) => u.split("#")[0] ?? u);
    fc.assert(
      fc.property(
        tokenArb,
        noFragment,
        fc.string({ unit: "binary", maxLength: 200 }),
        (key, base, json) => {
          const target = withTwilioBodyHash(base, json);
          expect(target).toContain(`bodySHA256=${createHash("sha256").update(json).digest("hex")}`);
          const ours = signWebhook({ scheme: "twilio", secret: key, url: target, body: json });
          const sig = ours["X-Twilio-Signature"] as string;
          expect(sig).toBe(twilio.getExpectedTwilioSignature(key, target, {}));
          expect(twilio.validateRequestWithBody(key, sig, target, json)).toBe(true);
          const input = { scheme: "twilio" as const, secrets: [key], headers: ours, url: target };
          expect(verifyWebhook({ ...input, body: json })).toEqual({ ok: true });
          const changed = `${json} `;
          expect(twilio.validateRequestWithBody(key, sig, target, changed)).toBe(false);
          expect(verifyWebhook({ ...input, body: changed })).toMatchObject({
            ok: false,
            code: "body.mismatch",
          });
        },
      ),
    );
  });
});

describe("twilio scheme: verification", () => {
  it("returns the idempotency token as the id, from any header shape", () => {
    const id = "a1b2c3d4-idem";
    const plain = { "X-TWILIO-SIGNATURE": signature, "i-twilio-idempotency-token": id };
    expect(verify({ headers: plain })).toEqual({ ok: true, id });
    const fetchHeaders = new Headers({
      "x-twilio-signature": signature,
      "I-Twilio-Idempotency-Token": id,
    });
    expect(verify({ headers: fetchHeaders })).toEqual({ ok: true, id });
    expect(resolveScheme("twilio").deliveryId(headerReader(plain), new Uint8Array())).toBe(id);
  });

  it("is not timestamped: an old delivery still verifies", () => {
    expect(verify({ now: new Date("2100-01-01T00:00:00Z") })).toEqual({ ok: true });
  });

  it("accepts any of several tokens (rotation)", () => {
    expect(verify({ secrets: ["previous-token", token] })).toEqual({ ok: true });
  });

  it("signs bodies with unusual whitespace and non-ASCII bytes, read as raw bytes", () => {
    const raw = Buffer.from(
      "Body=%20caf%C3%A9%0D%0A%09+end&Body=%E2%80%83&From=%2B1&Note=na\u00efve",
      "utf8",
    );
    const headers = signWebhook({ scheme: "twilio", secret: token, url, body: raw, id: "idem-1" });
    const params = parseQuery(raw.toString("utf8")) as Params;
    expect(headers["X-Twilio-Signature"]).toBe(
      twilio.getExpectedTwilioSignature(token, url, params),
    );
    expect(headers["I-Twilio-Idempotency-Token"]).toBe("idem-1");
    expect(verifyWebhook({ scheme: "twilio", secrets: [token], headers, body: raw, url })).toEqual({
      ok: true,
      id: "idem-1",
    });
  });

  const jsonVector = vectors.json[0] as (typeof vectors.json)[number];
  it.each([
    ["missing url", { url: undefined }, "url.missing"],
    ["missing signature", { headers: { "X-Other": "1" } }, "signature.missing"],
    ["blank signature", { headers: { "X-Twilio-Signature": "  " } }, "signature.missing"],
    [
      "truncated signature",
      { headers: { "X-Twilio-Signature": signature.slice(0, 20) } },
      "signature.malformed",
    ],
    [
      "garbled signature",
      { headers: { "X-Twilio-Signature": "not base64 at all!!" } },
      "signature.malformed",
    ],
    [
      "hex instead of base64",
      { headers: { "X-Twilio-Signature": "a".repeat(40) } },
      "signature.malformed",
    ],
    ["wrong token", { secrets: ["54321"] }, "signature.invalid"],
    ["changed param", { body: body.replace("1234", "9999") }, "signature.invalid"],
    ["other URL", { url: url.replace("bar=2", "bar=3") }, "signature.invalid"],
    ["empty token", { secrets: [""] }, "secret.invalid"],
    ["no token", { secrets: [] }, "secret.missing"],
    [
      "JSON body that does not match bodySHA256",
      {
        url: jsonVector.url,
        body: `${jsonVector.body} `,
        headers: { "X-Twilio-Signature": jsonVector.signature },
      },
      "body.mismatch",
    ],
    [
      "bodySHA256 that is not a digest",
      {
        url: `${url}&bodySHA256=nope`,
        headers: {
          "X-Twilio-Signature": twilio.getExpectedTwilioSignature(
            token,
            `${url}&bodySHA256=nope`,
            {},
          ),
        },
      },
      "body.mismatch",
    ],
  ])("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code: code as string });
  });
});

describe("twilio scheme: signing", () => {
  it("throws url.missing without a URL", () => {
    expect(() => signWebhook({ scheme: "twilio", secret: token, body })).toThrowError(
      expect.objectContaining({ name: "HeraldError", code: "url.missing" }),
    );
  });

  it("throws body.mismatch when the URL's bodySHA256 is not the body's", () => {
    const target = withTwilioBodyHash(url, "{}");
    expect(() =>
      signWebhook({ scheme: "twilio", secret: token, url: target, body: "[]" }),
    ).toThrowError(expect.objectContaining({ code: "body.mismatch" }));
  });

  it("adds bodySHA256 to URLs with and without a query or fragment", () => {
    const hash = createHash("sha256").update("{}").digest("hex");
    expect(withTwilioBodyHash("https://a.example/x", "{}")).toBe(
      `https://a.example/x?bodySHA256=${hash}`,
    );
    expect(withTwilioBodyHash("https://a.example/x?y=1#f", "{}")).toBe(
      `https://a.example/x?y=1&bodySHA256=${hash}#f`,
    );
  });

  it("generates 32-hex-character tokens", () => {
    expect(resolveScheme("twilio").generateSecret()).toMatch(/^[0-9a-f]{32}$/);
  });
});
