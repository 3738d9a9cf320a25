import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/index.js";
import standardVectors from "../vectors/standard.json" with { type: "json" };

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const body = '{"test": 2432232314}';
const timestamp = 1614265330;
const now = new Date(timestamp * 1000);

function signed(over: Record<string, string> = {}): Record<string, string> {
  return { ...signWebhook({ scheme: "standard", secret, id, timestamp, body }), ...over };
}
const validSignature = signed()["webhook-signature"] as string;

describe("standard scheme: published vectors", () => {
  for (const vector of standardVectors.sign) {
    it(`signs: ${vector.name}`, () => {
      const headers = signWebhook({
        scheme: "standard",
        secret: vector.secret,
        id: vector.id,
        timestamp: vector.timestamp,
        body: vector.body,
      });
      expect(headers["webhook-signature"]).toBe(vector.signature);
      const result = verifyWebhook({
        scheme: "standard",
        secrets: [vector.secret],
        headers,
        body: vector.body,
        now: new Date(vector.timestamp * 1000),
      });
      expect(result).toEqual({ ok: true, id: vector.id, timestamp: vector.timestamp });
    });
  }
});

describe("standard scheme: verification", () => {
  it("accepts a valid signature and returns id and timestamp", () => {
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret], headers: signed(), body, now }),
    ).toEqual({
      ok: true,
      id,
      timestamp,
    });
  });

  it("accepts the secret with or without the whsec_ prefix, and svix-* headers", () => {
    const h = signed();
    const svix = {
      "svix-id": h["webhook-id"],
      "svix-timestamp": h["webhook-timestamp"],
      "svix-signature": h["webhook-signature"],
    };
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret.slice(6)], headers: svix, body, now })
        .ok,
    ).toBe(true);
  });

  it("skips unknown versions and accepts another valid entry", () => {
    const valid = validSignature;
    const header = [
      "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
      valid,
      "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    ].join(" ");
    expect(
      verifyWebhook({
        scheme: "standard",
        secrets: [secret],
        headers: signed({ "webhook-signature": header }),
        body,
        now,
      }).ok,
    ).toBe(true);
  });

  it.each([
    [
      "wrong secret",
      { secrets: [`whsec_${Buffer.from("another secret 32 bytes long!!!!").toString("base64")}`] },
      "signature.invalid",
    ],
    [
      "truncated signature",
      { headers: signed({ "webhook-signature": validSignature.slice(0, 8) }) },
      "signature.malformed",
    ],
    ["empty signature", { headers: signed({ "webhook-signature": "v1," }) }, "signature.malformed"],
    [
      "only unknown versions",
      {
        headers: signed({ "webhook-signature": "v9,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" }),
      },
      "signature.unsupported",
    ],
    [
      "missing signature",
      { headers: { "webhook-id": id, "webhook-timestamp": String(timestamp) } },
      "signature.missing",
    ],
    [
      "missing id",
      { headers: { "webhook-timestamp": String(timestamp), "webhook-signature": validSignature } },
      "id.missing",
    ],
    [
      "missing timestamp",
      { headers: { "webhook-id": id, "webhook-signature": validSignature } },
      "timestamp.missing",
    ],
    [
      "non-numeric timestamp",
      { headers: signed({ "webhook-timestamp": "hello" }) },
      "timestamp.invalid",
    ],
    ["timestamp past tolerance", { now: new Date((timestamp + 301) * 1000) }, "timestamp.stale"],
    [
      "timestamp beyond tolerance in the future",
      { now: new Date((timestamp - 301) * 1000) },
      "timestamp.future",
    ],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
    ["secret that is not base64", { secrets: ["whsec_not base64!"] }, "secret.invalid"],
  ])("%s → %s", (_name, override, code) => {
    const result = verifyWebhook({
      scheme: "standard",
      secrets: [secret],
      headers: signed(),
      body,
      now,
      ...override,
    });
    expect(result).toMatchObject({ ok: false, code: code as string });
  });

  it("applies the tolerance to receivedAt when verifying after a queue delay", () => {
    const later = new Date((timestamp + 3600) * 1000);
    const base = { scheme: "standard" as const, secrets: [secret], headers: signed(), body };
    expect(verifyWebhook({ ...base, now: later }).ok).toBe(false);
    expect(verifyWebhook({ ...base, now: later, receivedAt: now }).ok).toBe(true);
    expect(verifyWebhook({ ...base, now: later, toleranceSeconds: 3600 }).ok).toBe(true);
  });

  it("accepts any of several secrets (rotation) and a header with both signatures", () => {
    const next = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const both = signWebhook({ scheme: "standard", secret: [next, secret], id, timestamp, body });
    expect(both["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret], headers: both, body, now }).ok,
    ).toBe(true);
    expect(
      verifyWebhook({
        scheme: "standard",
        secrets: [`whsec_${Buffer.alloc(32, 1).toString("base64")}`, next],
        headers: signed(),
        body,
        now,
      }).ok,
    ).toBe(false);
  });

  it("refuses a parsed body with an error naming the raw-body pitfall", () => {
    expect(() =>
      verifyWebhook({
        scheme: "standard",
        secrets: [secret],
        headers: signed(),
        body: JSON.parse(body),
        now,
      }),
    ).toThrowError(/raw request body.*JSON body parser/s);
  });
});
