// Header names that are Object.prototype members (`constructor`, `__proto__`, `toString`…) are
// headers like any other: the header reader, every scheme's lookups (hmac's configurable names
// included) and Node's dropped `__proto__` header, with header names drawn at random.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateSecret,
  type HmacSchemeOptions,
  type SchemeSpec,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";
import { headerReader, withProtoHeader } from "../../packages/webhooks/src/signing/headers.js";

const PROTO_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupGetter__",
];

/** Header names: prototype members (any letter case) and ordinary tokens. */
const headerName = fc.oneof(
  fc.constantFrom(...PROTO_NAMES),
  fc.constantFrom(...PROTO_NAMES).map((n) => n.toUpperCase()),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/),
);
const headerValue = fc.stringMatching(/^[ -~]{0,20}$/);

/** A header record with own properties only (`__proto__` included), as a parser would build it. */
function record(entries: readonly (readonly [string, string])[]): Record<string, string> {
  return Object.fromEntries(entries);
}

describe("headerReader", () => {
  it("reads own headers only, whatever their names (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(headerName, headerValue), {
          maxLength: 6,
          selector: ([name]) => name.toLowerCase(),
        }),
        fc.constantFrom(...PROTO_NAMES),
        (entries, probe) => {
          const read = headerReader(record(entries));
          for (const [name, value] of entries) expect(read(name.toLowerCase())).toBe(value);
          const present = entries.some(([name]) => name.toLowerCase() === probe.toLowerCase());
          if (!present) expect(read(probe.toLowerCase())).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never returns a prototype's function for an absent header", () => {
    const read = headerReader({ "content-type": "application/json" });
    for (const name of PROTO_NAMES) expect(read(name.toLowerCase())).toBeUndefined();
    for (const name of PROTO_NAMES) expect(read(name)).toBeUndefined();
  });
});

describe("withProtoHeader", () => {
  it("puts back the __proto__ header Node drops from req.headers", () => {
    const headers = { host: "x", constructor: "c" };
    const raw = ["Host", "x", "__PROTO__", "p1", "constructor", "c", "__proto__", "p2"];
    const restored = withProtoHeader(headers, raw);
    expect(Object.getPrototypeOf(restored)).toBeNull();
    expect(Object.entries(restored)).toEqual([
      ["host", "x"],
      ["constructor", "c"],
      ["__proto__", "p1, p2"],
    ]);
    expect(headerReader(restored)("__proto__")).toBe("p1, p2");
    // Without one, the same object (no copy on the usual path).
    expect(withProtoHeader(headers, ["Host", "x"])).toBe(headers);
    expect(withProtoHeader(headers, undefined)).toBe(headers);
  });
});

describe("schemes reading headers with such names", () => {
  const timestamp = 1_700_000_000;
  const now = new Date(timestamp * 1000);
  const body = '{"n":1}';

  it("hmac signs and verifies with any configured header names (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(headerName, {
          minLength: 3,
          maxLength: 3,
          selector: (n) => n.toLowerCase(),
        }),
        fc.constantFrom("sha256", "sha512"),
        ([signatureHeader, timestampHeader, idHeader], algorithm) => {
          const options: HmacSchemeOptions = {
            algorithm: algorithm as "sha256" | "sha512",
            signatureHeader: signatureHeader!,
            timestampHeader: timestampHeader!,
            idHeader: idHeader!,
            template: "{id}.{timestamp}.{body}",
          };
          const scheme = { name: "hmac", ...options } as SchemeSpec;
          const headers = signWebhook({ scheme, secret: "s3cret", body, id: "evt_1", timestamp });
          expect(Object.keys(headers).sort()).toEqual(
            [signatureHeader, timestampHeader, idHeader].sort(),
          );
          const verified = verifyWebhook({ scheme, secrets: ["s3cret"], headers, body, now });
          expect(verified).toEqual({ ok: true, id: "evt_1", timestamp });
          // Not sent: missing, never a crash on Object.prototype's members.
          const bare = verifyWebhook({ scheme, secrets: ["s3cret"], headers: {}, body, now });
          expect(bare).toMatchObject({ ok: false, code: "signature.missing" });
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each(["standard", "stripe", "github", "slack", "shopify", "twilio", "eventing"])(
    "%s answers a request whose only headers are prototype names with a failure, not a throw",
    (scheme) => {
      const headers = record(PROTO_NAMES.map((name) => [name.toLowerCase(), "x"] as const));
      const result = verifyWebhook({
        scheme: scheme as SchemeSpec,
        secrets: [generateSecret(scheme as SchemeSpec)],
        headers,
        body,
        now,
        url: "https://example.com/hook",
      });
      expect(result.ok).toBe(false);
    },
  );
});
