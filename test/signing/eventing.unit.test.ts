// Eventing scheme: no public vectors exist, so known answers are computed here with node:crypto
// (independently of our module), plus round trips and exact error codes.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  headerReader,
  resolveScheme,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";

const secret = "evt_secret_9f8e7d";
const timestamp = 1_700_000_000;
const now = new Date(timestamp * 1000);
const body = '{"type":"order.created","id":42}';
const id = "evt_01HZX3";

/** The contract, computed directly: v1=<hex hmac_sha256(secret utf8, "{ts}.{body}")>. */
function expected(key: string, ts: number | string, payload: string | Uint8Array): string {
  const mac = createHmac("sha256", Buffer.from(key, "utf8"));
  return `v1=${mac.update(`${ts}.`).update(payload).digest("hex")}`;
}

const valid = expected(secret, timestamp, body);
const headers = (over: Record<string, string> = {}) => ({
  "X-Eventing-Timestamp": String(timestamp),
  "X-Eventing-Signature": valid,
  "X-Eventing-Id": id,
  ...over,
});

function verify(over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({
    scheme: "eventing",
    secrets: [secret],
    headers: headers(),
    body,
    now,
    ...over,
  });
}

describe("eventing scheme: known answers (node:crypto)", () => {
  it("signs timestamp, signature and id headers", () => {
    expect(signWebhook({ scheme: "eventing", secret, id, timestamp, body })).toEqual(headers());
    expect(signWebhook({ scheme: "eventing", secret, timestamp, body })).toEqual({
      "X-Eventing-Timestamp": String(timestamp),
      "X-Eventing-Signature": valid,
    });
  });

  it("matches the direct computation for arbitrary secrets and bytes", () => {
    const secretArb = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== "");
    fc.assert(
      fc.property(secretArb, fc.uint8Array({ maxLength: 300 }), (key, bytes) => {
        const out = signWebhook({ scheme: "eventing", secret: key, timestamp, body: bytes });
        expect(out["X-Eventing-Signature"]).toBe(expected(key, timestamp, bytes));
        const result = verifyWebhook({
          scheme: "eventing",
          secrets: [key],
          headers: out,
          body: bytes,
          now,
        });
        expect(result).toEqual({ ok: true, timestamp });
      }),
    );
  });
});

describe("eventing scheme: verification", () => {
  it("accepts a valid delivery and returns id and timestamp", () => {
    expect(verify()).toEqual({ ok: true, id, timestamp });
  });

  it("reads mixed-case header names and a fetch Headers object", () => {
    const mixed = {
      "x-EVENTING-timestamp": String(timestamp),
      "X-eventing-SIGNATURE": valid,
      "x-eventing-id": id,
    };
    expect(verify({ headers: mixed })).toEqual({ ok: true, id, timestamp });
    expect(verify({ headers: new Headers(headers()) })).toEqual({ ok: true, id, timestamp });
    expect(resolveScheme("eventing").deliveryId(headerReader(mixed), new Uint8Array())).toBe(id);
  });

  it("skips unknown versions and accepts a valid v1 among several entries", () => {
    const other = expected("another secret", timestamp, body);
    const header = `v2=${"ab".repeat(32)}, ${other},${valid} ,v0=zz`;
    expect(verify({ headers: headers({ "X-Eventing-Signature": header }) }).ok).toBe(true);
  });

  it("accepts any of several secrets, and signs with all of them during a rotation", () => {
    expect(verify({ secrets: ["older secret", secret] }).ok).toBe(true);
    const both = signWebhook({
      scheme: "eventing",
      secret: ["next secret", secret],
      timestamp,
      body,
    });
    expect(both["X-Eventing-Signature"]).toBe(
      `${expected("next secret", timestamp, body)},${valid}`,
    );
    expect(verify({ headers: both }).ok).toBe(true);
    expect(verify({ headers: both, secrets: ["next secret"] }).ok).toBe(true);
  });

  it("verifies bodies with unusual whitespace and non-ASCII bytes exactly", () => {
    const raw = Buffer.concat([
      Buffer.from(' \t\r\n{\u00a0"caf\u00e9": "\u2003\u{1f600}"}\n\n', "utf8"),
      Buffer.from([0xff, 0x00, 0xc3]),
    ]);
    const signed = { ...headers(), "X-Eventing-Signature": expected(secret, timestamp, raw) };
    expect(verify({ headers: signed, body: raw }).ok).toBe(true);
    const trimmed = raw.subarray(0, raw.length - 1);
    expect(verify({ headers: signed, body: trimmed })).toMatchObject({ code: "signature.invalid" });
  });

  const stale = new Date((timestamp + 301) * 1000);
  const early = new Date((timestamp - 301) * 1000);
  it.each([
    ["wrong secret", { secrets: ["not the secret"] }, "signature.invalid"],
    ["changed body", { body: `${body} ` }, "signature.invalid"],
    [
      "truncated signature",
      { headers: headers({ "X-Eventing-Signature": valid.slice(0, 40) }) },
      "signature.malformed",
    ],
    [
      "garbled signature",
      { headers: headers({ "X-Eventing-Signature": `v1=${"zz".repeat(32)}` }) },
      "signature.malformed",
    ],
    [
      "empty v1 entry",
      { headers: headers({ "X-Eventing-Signature": "v1=" }) },
      "signature.malformed",
    ],
    [
      "digest without the v1= prefix",
      { headers: headers({ "X-Eventing-Signature": valid.slice(3) }) },
      "signature.malformed",
    ],
    [
      "only unknown versions",
      { headers: headers({ "X-Eventing-Signature": `v2=${valid.slice(3)}` }) },
      "signature.unsupported",
    ],
    [
      "missing signature",
      { headers: { "X-Eventing-Timestamp": String(timestamp) } },
      "signature.missing",
    ],
    ["missing timestamp", { headers: { "X-Eventing-Signature": valid } }, "timestamp.missing"],
    [
      "non-numeric timestamp",
      { headers: headers({ "X-Eventing-Timestamp": "17e8" }) },
      "timestamp.invalid",
    ],
    [
      "negative timestamp",
      { headers: headers({ "X-Eventing-Timestamp": "-5" }) },
      "timestamp.invalid",
    ],
    ["timestamp past the tolerance", { now: stale }, "timestamp.stale"],
    ["timestamp beyond the tolerance in the future", { now: early }, "timestamp.future"],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
    ["blank secret", { secrets: ["  "] }, "secret.invalid"],
  ])("%s → %s", (_name, override, code) => {
    expect(verify(override)).toMatchObject({ ok: false, code: code as string });
  });

  it("applies a custom tolerance and receivedAt", () => {
    expect(verify({ now: stale, toleranceSeconds: 400 }).ok).toBe(true);
    expect(verify({ now: new Date((timestamp + 3600) * 1000), receivedAt: now }).ok).toBe(true);
  });

  it("the signed timestamp is the header text: a changed timestamp fails", () => {
    const moved = headers({ "X-Eventing-Timestamp": String(timestamp + 1) });
    expect(verify({ headers: moved })).toMatchObject({ ok: false, code: "signature.invalid" });
  });
});
