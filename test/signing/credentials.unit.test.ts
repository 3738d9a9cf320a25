// Verifiers by credentials: a shared token (Authorization: Bearer or a header of the source's
// choosing), HTTP Basic; what they accept, what they refuse, and that no answer echoes a secret.
import { describe, expect, it } from "vitest";
import {
  checkCredentials,
  credentialSecretProblem,
  generateCredential,
  isCredentialScheme,
} from "../../packages/webhooks/src/signing/credentials.js";

const TOKEN = "tok_0123456789abcdef";
const OTHER = "tok_fedcba9876543210";
const PAIR = "acme:correct-horse-battery";

function reader(headers: Record<string, string>) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return (name: string) => lower[name];
}

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString("base64")}`;

describe("token", () => {
  it("accepts any listed token as Authorization: Bearer (scheme word in any case)", () => {
    for (const value of [`Bearer ${TOKEN}`, `bearer ${OTHER}`, `BEARER   ${TOKEN}  `]) {
      const result = checkCredentials({
        scheme: "token",
        secrets: [TOKEN, OTHER],
        header: reader({ Authorization: value }),
      });
      expect(result).toEqual({ ok: true });
    }
  });

  it("reads the bare token from the source's own header when it names one", () => {
    const check = (headers: Record<string, string>) =>
      checkCredentials({
        scheme: "token",
        secrets: [TOKEN],
        header: reader(headers),
        tokenHeader: "X-Api-Token",
      });
    expect(check({ "X-Api-Token": TOKEN })).toEqual({ ok: true });
    // The Authorization header is not where this source looks.
    expect(check({ Authorization: `Bearer ${TOKEN}` })).toMatchObject({
      ok: false,
      code: "credentials.missing",
    });
    expect(check({ "X-Api-Token": OTHER })).toMatchObject({
      ok: false,
      code: "credentials.invalid",
    });
  });

  it("refuses a missing, malformed or wrong token without echoing either value", () => {
    const cases: [Record<string, string>, string][] = [
      [{}, "credentials.missing"],
      [{ Authorization: TOKEN }, "credentials.missing"],
      [{ Authorization: `Basic ${TOKEN}` }, "credentials.missing"],
      [{ Authorization: "Bearer " }, "credentials.missing"],
      [{ Authorization: `Bearer ${TOKEN}x` }, "credentials.invalid"],
      [{ Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, "credentials.invalid"],
      [{ Authorization: `Bearer ${"a".repeat(5000)}` }, "credentials.invalid"],
    ];
    for (const [headers, code] of cases) {
      const result = checkCredentials({
        scheme: "token",
        secrets: [TOKEN],
        header: reader(headers),
      });
      expect(result).toMatchObject({ ok: false, code });
      if (!result.ok) {
        expect(result.message).not.toContain(TOKEN.slice(4));
        expect(result.message).not.toContain("aaaa");
      }
    }
  });
});

describe("basic", () => {
  it("accepts a listed user:password pair", () => {
    const result = checkCredentials({
      scheme: "basic",
      secrets: ["old:previous-password", PAIR],
      header: reader({ Authorization: basic(PAIR) }),
    });
    expect(result).toEqual({ ok: true });
  });

  it("refuses a wrong pair, a wrong user, and a header that is not Basic user:password", () => {
    const check = (value: string | undefined) =>
      checkCredentials({
        scheme: "basic",
        secrets: [PAIR],
        header: reader(value === undefined ? {} : { Authorization: value }),
      });
    expect(check(basic("acme:wrong-password-here"))).toMatchObject({ code: "credentials.invalid" });
    expect(check(basic("other:correct-horse-battery"))).toMatchObject({
      code: "credentials.invalid",
    });
    expect(check(undefined)).toMatchObject({ code: "credentials.missing" });
    expect(check(`Bearer ${PAIR}`)).toMatchObject({ code: "credentials.missing" });
    expect(check("Basic !!!not-base64")).toMatchObject({ code: "credentials.missing" });
    expect(check(`Basic ${Buffer.from("no-colon").toString("base64")}`)).toMatchObject({
      code: "credentials.missing",
    });
  });
});

describe("credential secrets", () => {
  it("states what a usable token or pair is, and none takes no secret", () => {
    expect(credentialSecretProblem("token", TOKEN)).toBeUndefined();
    expect(credentialSecretProblem("token", "short")).toMatch(/at least 16/);
    expect(credentialSecretProblem("token", "has space in the token")).toMatch(/without spaces/);
    expect(credentialSecretProblem("basic", PAIR)).toBeUndefined();
    expect(credentialSecretProblem("basic", "nopassword")).toMatch(/user:password/);
    expect(credentialSecretProblem("basic", ":password-without-user")).toMatch(/user:password/);
    expect(credentialSecretProblem("basic", "u:short")).toMatch(/at least 12/);
    expect(credentialSecretProblem("none", "anything")).toMatch(/no secrets/);
    expect(credentialSecretProblem("token", "x".repeat(1025))).toMatch(/1024/);
  });

  it("generates credentials that pass their own rules and differ each time", () => {
    for (const scheme of ["token", "basic"] as const) {
      const a = generateCredential(scheme);
      expect(credentialSecretProblem(scheme, a)).toBeUndefined();
      expect(generateCredential(scheme)).not.toBe(a);
    }
    expect(isCredentialScheme("token")).toBe(true);
    expect(isCredentialScheme("standard")).toBe(false);
  });
});
