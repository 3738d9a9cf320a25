// Slack scheme: the published example, property round-trips against the documented recipe, and
// exact error codes.
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
import vectors from "../vectors/slack.json" with { type: "json" };

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const body =
  '{"token":"x","team_id":"T1","event":{"type":"app_mention"},"event_id":"Ev08MFMKH6","type":"event_callback"}';
const timestamp = 1_700_000_000;
const now = new Date(timestamp * 1000);

function signed(over: Record<string, string> = {}, key: string | string[] = secret) {
  return { ...signWebhook({ scheme: "slack", secret: key, timestamp, body }), ...over };
}
const signature = signed()["X-Slack-Signature"] as string;
const hex = signature.slice(3);

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({
    scheme: "slack",
    secrets: [secret],
    headers: signed(),
    body,
    now,
    ...over,
  });
}
const sig = (value: string) => ({ headers: signed({ "X-Slack-Signature": value }) });

describe("slack scheme: published vectors", () => {
  for (const vector of vectors.vectors) {
    const at = new Date(Number(vector.timestamp) * 1000);
    it(`signs: ${vector.name}`, () => {
      const out = signWebhook({
        scheme: "slack",
        secret: vector.secret,
        timestamp: Number(vector.timestamp),
        body: vector.body,
      });
      expect(out).toEqual({
        "X-Slack-Signature": vector.signature,
        "X-Slack-Request-Timestamp": vector.timestamp,
      });
    });

    it(`verifies, string and Buffer: ${vector.name}`, () => {
      const headers = {
        "X-Slack-Request-Timestamp": vector.timestamp,
        "X-Slack-Signature": vector.signature,
      };
      for (const raw of [vector.body, Buffer.from(vector.body)]) {
        const result = verifyWebhook({
          scheme: "slack",
          secrets: [vector.secret],
          headers,
          body: raw,
          now: at,
        });
        // A slash command is form-encoded: there is no event_id to dedupe on.
        expect(result).toEqual({ ok: true, timestamp: Number(vector.timestamp) });
      }
      const tampered = `${vector.body}------`;
      expect(
        verifyWebhook({
          scheme: "slack",
          secrets: [vector.secret],
          headers,
          body: tampered,
          now: at,
        }),
      ).toMatchObject({ code: "signature.invalid" });
    });
  }
});

describe("slack scheme: properties", () => {
  // The recipe from Slack's docs, written independently of the scheme module.
  const reference = (key: string, ts: number, payload: Buffer) =>
    `v0=${createHmac("sha256", key).update(`v0:${ts}:`).update(payload).digest("hex")}`;

  it("matches the documented recipe and round-trips for any body, secret and time", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (key, bytes, ts) => {
          const payload = Buffer.from(bytes);
          const out = signWebhook({ scheme: "slack", secret: key, timestamp: ts, body: payload });
          expect(out["X-Slack-Signature"]).toBe(reference(key, ts, payload));
          const result = verifyWebhook({
            scheme: "slack",
            secrets: [key],
            headers: out,
            body: payload,
            now: new Date(ts * 1000),
          });
          expect(result).toMatchObject({ ok: true, timestamp: ts });
        },
      ),
    );
  });
});

describe("slack scheme: verification", () => {
  it("accepts a valid signature and returns event_id and timestamp", () => {
    expect(verify()).toEqual({ ok: true, id: "Ev08MFMKH6", timestamp });
  });

  it.each([
    ["wrong secret", { secrets: ["0123456789abcdef0123456789abcdef"] }, "signature.invalid"],
    ["truncated signature", sig(signature.slice(0, 30)), "signature.malformed"],
    ["garbled signature (not hex)", sig(`v0=${"x".repeat(64)}`), "signature.malformed"],
    [
      "garbled signature (hex, wrong digit)",
      sig(`v0=${hex.slice(0, -1)}${hex.endsWith("0") ? "1" : "0"}`),
      "signature.invalid",
    ],
    ["unknown version only", sig(`v1=${hex}`), "signature.unsupported"],
    ["no version prefix", sig(hex), "signature.malformed"],
    ["a prefix that is not a version", sig(`sha256=${hex}`), "signature.malformed"],
    [
      "missing signature header",
      { headers: { "X-Slack-Request-Timestamp": String(timestamp) } },
      "signature.missing",
    ],
    [
      "missing timestamp header",
      { headers: { "X-Slack-Signature": signature } },
      "timestamp.missing",
    ],
    [
      "non-numeric timestamp",
      { headers: signed({ "X-Slack-Request-Timestamp": "17e8" }) },
      "timestamp.invalid",
    ],
    [
      "negative timestamp",
      { headers: signed({ "X-Slack-Request-Timestamp": "-1" }) },
      "timestamp.invalid",
    ],
    ["timestamp past tolerance", { now: new Date((timestamp + 301) * 1000) }, "timestamp.stale"],
    [
      "timestamp beyond tolerance in the future",
      { now: new Date((timestamp - 301) * 1000) },
      "timestamp.future",
    ],
    [
      "timestamp changed",
      { headers: signed({ "X-Slack-Request-Timestamp": String(timestamp + 1) }) },
      "signature.invalid",
    ],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
  ] as const)("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code });
  });

  it("signs with the first secret only, and verifies against every secret (rotation)", () => {
    const next = "fedcba9876543210fedcba9876543210";
    const out = signed({}, [next, secret]);
    expect(Object.keys(out)).toEqual(["X-Slack-Signature", "X-Slack-Request-Timestamp"]);
    expect(verify({ headers: out, secrets: [secret] })).toMatchObject({
      code: "signature.invalid",
    });
    expect(verify({ headers: out, secrets: [secret, next] }).ok).toBe(true);
  });

  it("verifies raw bytes: unusual whitespace and non-ASCII, string and Buffer alike", () => {
    const text = '\t{"event_id":"Ev1","text":"ça va? 👋\u00a0\u200b"}\r\n';
    const fromString = signWebhook({ scheme: "slack", secret, timestamp, body: text });
    expect(signWebhook({ scheme: "slack", secret, timestamp, body: Buffer.from(text) })).toEqual(
      fromString,
    );
    for (const raw of [text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      expect(verify({ headers: fromString, body: raw })).toEqual({
        ok: true,
        id: "Ev1",
        timestamp,
      });
    }
    expect(verify({ headers: fromString, body: text.replace("\r\n", "\n") }).ok).toBe(false);
  });

  it("reads headers in any letter case and from a fetch Headers object", () => {
    const mixed = {
      "x-SLACK-signature": signature,
      "X-Slack-Request-TIMESTAMP": String(timestamp),
    };
    expect(verify({ headers: mixed }).ok).toBe(true);
    expect(verify({ headers: new Headers(signed()) }).ok).toBe(true);
  });

  it("applies the tolerance to receivedAt", () => {
    const later = new Date((timestamp + 3600) * 1000);
    expect(verify({ now: later })).toMatchObject({ code: "timestamp.stale" });
    expect(verify({ now: later, receivedAt: now }).ok).toBe(true);
  });

  it("generates a 32-hex-digit signing secret", () => {
    expect(generateSecret("slack")).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("slack scheme: deliveryId", () => {
  const scheme = resolveScheme("slack");
  const read = headerReader({});
  it.each([
    ['{"type":"event_callback","event_id":"Ev123"}', "Ev123"],
    ['{"type":"url_verification","challenge":"abc"}', undefined],
    ["payload=%7B%22type%22%3A%22block_actions%22%7D", undefined],
    ['{"event_id":7}', undefined],
    ["{not json", undefined],
  ])("%j → %s", (text, id) => {
    expect(scheme.deliveryId(read, Buffer.from(text))).toBe(id);
  });
});
