// Generic HMAC scheme: no public vectors exist, so known answers are computed here with
// node:crypto (independently of our module); option validation, round trips and exact codes.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createHmacScheme,
  type HmacSchemeOptions,
  resolveScheme,
  type SchemeSpec,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/index.js";

const timestamp = 1_700_000_000;
const now = new Date(timestamp * 1000);
const body = '{"event":"invoice.paid","amount":1200}';
const secret = "shared-secret";

/** The signed content and digest computed directly from the options, not by our module. */
function direct(
  options: HmacSchemeOptions,
  key: Buffer,
  fields: { id?: string; timestamp?: string },
  payload: string | Uint8Array,
): string {
  const template = options.template ?? (options.timestampHeader ? "{timestamp}.{body}" : "{body}");
  const [before = "", after = ""] = template.split("{body}");
  const fill = (text: string) =>
    text.replaceAll("{id}", fields.id ?? "").replaceAll("{timestamp}", fields.timestamp ?? "");
  const mac = createHmac(options.algorithm ?? "sha256", key);
  mac.update(fill(before)).update(payload).update(fill(after));
  return (options.signaturePrefix ?? "") + mac.digest(options.encoding ?? "hex");
}

// #region x-signature-contract
const contract = {
  name: "hmac",
  signatureHeader: "X-Signature",
  timestampHeader: "X-Timestamp",
  idHeader: "X-Event-Id",
  template: "{id}.{timestamp}.{body}",
} as const satisfies SchemeSpec;
// #endregion x-signature-contract

describe("hmac scheme: the X-Signature + X-Timestamp + X-Event-Id contract", () => {
  const id = "evt_123";
  const expected = direct(
    contract,
    Buffer.from(secret),
    { id, timestamp: String(timestamp) },
    body,
  );
  const headers = { "X-Signature": expected, "X-Timestamp": String(timestamp), "X-Event-Id": id };

  it("signs the known answer and verifies it, from an inline spec or createHmacScheme", () => {
    expect(signWebhook({ scheme: contract, secret, id, timestamp, body })).toEqual(headers);
    const { name: _name, ...options } = contract;
    const scheme = createHmacScheme(options);
    for (const spec of [contract, scheme] as SchemeSpec[]) {
      const result = verifyWebhook({ scheme: spec, secrets: [secret], headers, body, now });
      expect(result).toEqual({ ok: true, id, timestamp });
    }
    expect(resolveScheme(contract)).toBe(resolveScheme(contract));
  });

  it("reads a fetch Headers object and mixed-case names", () => {
    const mixed = { "x-SIGNATURE": expected, "X-timestamp": String(timestamp), "x-event-ID": id };
    for (const h of [new Headers(headers), mixed]) {
      expect(verifyWebhook({ scheme: contract, secrets: [secret], headers: h, body, now }).ok).toBe(
        true,
      );
    }
  });

  const base = { scheme: contract, secrets: [secret], body, now };
  const without = (name: string) =>
    Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
  it.each([
    ["missing signature", { headers: without("X-Signature") }, "signature.missing"],
    ["missing timestamp", { headers: without("X-Timestamp") }, "timestamp.missing"],
    ["missing id", { headers: without("X-Event-Id") }, "id.missing"],
    ["other id", { headers: { ...headers, "X-Event-Id": "evt_124" } }, "signature.invalid"],
    ["wrong secret", { secrets: ["other"] }, "signature.invalid"],
    [
      "truncated signature",
      { headers: { ...headers, "X-Signature": expected.slice(0, 63) } },
      "signature.malformed",
    ],
    [
      "garbled signature",
      { headers: { ...headers, "X-Signature": "g".repeat(64) } },
      "signature.malformed",
    ],
    [
      "non-numeric timestamp",
      { headers: { ...headers, "X-Timestamp": "now" } },
      "timestamp.invalid",
    ],
    ["stale", { now: new Date((timestamp + 301) * 1000) }, "timestamp.stale"],
    ["future", { now: new Date((timestamp - 301) * 1000) }, "timestamp.future"],
    ["empty secret", { secrets: [""] }, "secret.invalid"],
  ])("%s → %s", (_name, override, code) => {
    const result = verifyWebhook({ ...base, headers, ...override });
    expect(result).toMatchObject({ ok: false, code: code as string });
  });

  it("needs an id to sign", () => {
    expect(() => signWebhook({ scheme: contract, secret, timestamp, body })).toThrowError(
      expect.objectContaining({ code: "id.missing" }),
    );
  });
});

describe("hmac scheme: defaults and variants", () => {
  it('"hmac" by name is hex HMAC-SHA256 of the body in X-Signature', () => {
    const expected = direct({}, Buffer.from(secret), {}, body);
    expect(signWebhook({ scheme: "hmac", secret, body })).toEqual({ "X-Signature": expected });
    const headers = { "x-signature": expected };
    expect(verifyWebhook({ scheme: "hmac", secrets: [secret], headers, body })).toEqual({
      ok: true,
    });
    expect(resolveScheme("hmac").timestamped).toBe(false);
  });

  it("sha512, base64, prefix, base64 secret, milliseconds and a space separator", () => {
    const options: HmacSchemeOptions = {
      algorithm: "sha512",
      encoding: "base64",
      signaturePrefix: "sha512=",
      secretEncoding: "base64",
      separator: " ",
      timestampHeader: "X-Sent-At",
      timestampUnit: "milliseconds",
    };
    const key = Buffer.alloc(48, 9);
    const ms = String(timestamp * 1000);
    const expected = direct(options, key, { timestamp: ms }, body);
    const spec = { name: "hmac" as const, ...options };
    const old = Buffer.alloc(48, 1).toString("base64");
    const signed = signWebhook({
      scheme: spec,
      secret: [key.toString("base64"), old],
      timestamp,
      body,
    });
    expect(signed).toEqual({
      "X-Signature": `${expected} ${direct(options, Buffer.alloc(48, 1), { timestamp: ms }, body)}`,
      "X-Sent-At": ms,
    });
    const result = verifyWebhook({ scheme: spec, secrets: [old], headers: signed, body, now });
    expect(result).toEqual({ ok: true, timestamp });
    const bad = verifyWebhook({
      scheme: spec,
      secrets: ["not base64!"],
      headers: signed,
      body,
      now,
    });
    expect(bad).toMatchObject({ ok: false, code: "secret.invalid" });
  });

  it("skips other versions, accepts a valid entry among several, reports unsupported", () => {
    const spec = { name: "hmac" as const, signaturePrefix: "v1=" };
    const expected = direct(spec, Buffer.from(secret), {}, body);
    const verifyWith = (header: string) =>
      verifyWebhook({ scheme: spec, secrets: [secret], headers: { "X-Signature": header }, body });
    expect(verifyWith(`v2=${"a".repeat(64)},v1=${"b".repeat(64)}, ${expected}`).ok).toBe(true);
    expect(verifyWith(`v2=${expected.slice(3)}`)).toMatchObject({ code: "signature.unsupported" });
    expect(verifyWith(expected.slice(3))).toMatchObject({ code: "signature.malformed" });
    expect(verifyWith(`v1=${"b".repeat(64)}`)).toMatchObject({ code: "signature.invalid" });
  });

  it("hex secrets and non-ASCII bodies with unusual whitespace", () => {
    const spec = { name: "hmac" as const, secretEncoding: "hex" as const };
    const raw = Buffer.from('\u00a0\t{ "na\u00efve": "\u{1f680}" }\r\n', "utf8");
    const expected = direct(spec, Buffer.from("00ff10", "hex"), {}, raw);
    const headers = { "X-Signature": expected };
    expect(verifyWebhook({ scheme: spec, secrets: ["00FF10"], headers, body: raw }).ok).toBe(true);
    expect(verifyWebhook({ scheme: spec, secrets: ["0f0"], headers, body: raw })).toMatchObject({
      code: "secret.invalid",
    });
  });
});

describe("hmac scheme: any valid contract round-trips and matches the direct computation", () => {
  const optionsArb = fc
    .record({
      algorithm: fc.constantFrom("sha256", "sha512"),
      encoding: fc.constantFrom("hex", "base64"),
      signaturePrefix: fc.constantFrom("", "sha=", "v1:"),
      separator: fc.constantFrom(",", " ", ";"),
      timestamped: fc.boolean(),
      withId: fc.boolean(),
      joiner: fc.constantFrom(".", ":", "\n", ""),
      suffix: fc.constantFrom("", "!", ".{timestamp}"),
      idFirst: fc.boolean(),
    })
    .map(({ timestamped, withId, joiner, suffix, idFirst, ...rest }): HmacSchemeOptions => {
      const fields = [timestamped ? "{timestamp}" : "", withId ? "{id}" : ""].filter(Boolean);
      if (idFirst) fields.reverse();
      const tail = timestamped || !suffix.includes("{") ? suffix : "";
      return {
        ...rest,
        template: [...fields, "{body}"].join(joiner) + tail,
        ...(timestamped ? { timestampHeader: "X-Ts" } : {}),
        ...(withId ? { idHeader: "X-Id" } : {}),
      } as HmacSchemeOptions;
    });
  const secretArb = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== "");

  it("holds for generated options, secrets, ids and bodies", () => {
    fc.assert(
      fc.property(optionsArb, secretArb, fc.uint8Array({ maxLength: 200 }), (options, key, raw) => {
        const scheme = createHmacScheme(options);
        const id = "evt-7";
        const headers = signWebhook({ scheme, secret: key, id, timestamp, body: raw });
        const fields = { id, timestamp: String(timestamp) };
        expect(headers["X-Signature"]).toBe(direct(options, Buffer.from(key), fields, raw));
        const result = verifyWebhook({ scheme, secrets: [key], headers, body: raw, now });
        expect(result.ok).toBe(true);
        const extended = Uint8Array.from([...raw, 0]);
        const changed = verifyWebhook({ scheme, secrets: [key], headers, body: extended, now });
        expect(changed).toMatchObject({ ok: false, code: "signature.invalid" });
      }),
    );
  });
});

describe("hmac scheme: options are validated at creation", () => {
  it.each([
    ["unknown placeholder", { template: "{body}.{nonce}" }, "template"],
    ["{timestamp} without timestampHeader", { template: "{timestamp}.{body}" }, "template"],
    ["{id} without idHeader", { template: "{id}.{body}" }, "template"],
    [
      "timestampHeader whose timestamp is not signed",
      { timestampHeader: "X-Ts", template: "{body}" },
      "template",
    ],
    ["no {body}", { template: "{id}", idHeader: "X-Id" }, "template"],
    ["{body} twice", { template: "{body}{body}" }, "template"],
    ["stray brace", { template: "{body}}" }, "template"],
    ["unknown option", { timestampheader: "X-Ts" }, "timestampheader"],
    ["algorithm", { algorithm: "md5" }, "algorithm"],
    ["encoding", { encoding: "base32" }, "encoding"],
    ["secretEncoding", { secretEncoding: "latin1" }, "secretEncoding"],
    ["timestampUnit", { timestampUnit: "minutes" }, "timestampUnit"],
    ["header name with a space", { signatureHeader: "X Signature" }, "signatureHeader"],
    ["empty header name", { idHeader: "" }, "idHeader"],
    [
      "timestamp header equal to the signature header",
      { timestampHeader: "x-signature" },
      "timestampHeader",
    ],
    ["separator inside the digest alphabet", { separator: "a" }, "separator"],
    ["empty separator", { separator: "" }, "separator"],
    ["prefix containing the separator", { signaturePrefix: "a,b" }, "signaturePrefix"],
    ["template that is not a string", { template: 5 }, "template"],
  ])("%s → scheme.invalid_options naming %s", (_name, options, option) => {
    const build = () => createHmacScheme(options as HmacSchemeOptions);
    expect(build).toThrowError(
      expect.objectContaining({ code: "scheme.invalid_options", details: { option } }),
    );
    expect(build).toThrowError(option);
  });

  it("also through the registry spec", () => {
    const spec = { name: "hmac", template: "{nonce}.{body}" } as unknown as SchemeSpec;
    expect(() => signWebhook({ scheme: spec, secret, body })).toThrowError(
      expect.objectContaining({ code: "scheme.invalid_options" }),
    );
  });
});
