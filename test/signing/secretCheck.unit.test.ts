// The one secret rule (endpoints sign, sources verify): every scheme's generated secret is
// usable both ways; what a scheme cannot use is named, with the scheme's own message.
import { describe, expect, it } from "vitest";
import { generateSecret, generateStandardKeyPair } from "../../packages/webhooks/src/index.js";
import { type SchemeSpec, schemeNames } from "../../packages/webhooks/src/signing/registry.js";
import { secretProblem } from "../../packages/webhooks/src/signing/secretCheck.js";

describe("secretProblem", () => {
  it.each(schemeNames)("accepts a generated %s secret for signing and verifying", (scheme) => {
    const secret = generateSecret(scheme);
    expect(secretProblem(scheme, secret, "sign")).toBeUndefined();
    expect(secretProblem(scheme, secret, "verify")).toBeUndefined();
  });

  const hex: SchemeSpec = { name: "hmac", secretEncoding: "hex" };
  const base64: SchemeSpec = { name: "hmac", secretEncoding: "base64", timestampHeader: "X-T" };
  it.each([
    ["standard", "not base64!", "whsec_ secret must be followed by standard base64"],
    ["standard", "whsk_AAAA", "whsk_ key must be base64 of a 32-byte Ed25519 seed"],
    ["standard", "whpk_AAAA", "whpk_ key must be base64 of a 32-byte Ed25519 key"],
    ["stripe", "whsec_a b", "whitespace"],
    ["github", "  ", "empty"],
    [hex, "zz", "not hex"],
    [hex, "abc", "not hex"],
    [base64, "***", "not base64"],
  ] as [SchemeSpec, string, string][])("refuses %j %j for both uses", (scheme, secret, reason) => {
    expect(secretProblem(scheme, secret, "verify")).toContain(reason);
    expect(secretProblem(scheme, secret, "sign")).toContain(reason);
  });

  it("takes a whpk_ public key for verifying only", () => {
    const { secret, publicKey } = generateStandardKeyPair();
    expect(secretProblem("standard", publicKey, "verify")).toBeUndefined();
    expect(secretProblem("standard", publicKey, "sign")).toContain("can verify but not sign");
    expect(secretProblem("standard", secret, "verify")).toBeUndefined();
    expect(secretProblem("standard", secret, "sign")).toBeUndefined();
  });

  it("throws what resolving the scheme throws", () => {
    expect(() =>
      secretProblem({ name: "hmac", template: "{x}" } as SchemeSpec, "s", "verify"),
    ).toThrow(expect.objectContaining({ code: "scheme.invalid_options" }));
  });
});
