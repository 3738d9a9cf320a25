// The headers a webhook's signing puts on each request, read off a sample signature so they
// always match what Herald sends and checks (names only; values are per request).

import type { SchemeName, SchemeSpec } from "@heraldjs/webhooks/internal/signing/registry.js";
import { signWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import { toSchemeOptions, type WireHmacOptions } from "../wire/schemeOptions.js";
import type { SigningSpec } from "./schema.js";

/**
 * A spec's `signing` as a Herald scheme name and, for `hmac`, its options in wire (snake_case)
 * form: the short forms `hmac-sha256` / `hmac-sha512` are `hmac` with that algorithm, `ed25519`
 * is `standard` (v1a keys).
 */
export function signingScheme(signing: SigningSpec): {
  scheme: SchemeName;
  scheme_options?: WireHmacOptions;
} {
  if (signing === "hmac-sha256") return { scheme: "hmac", scheme_options: { algorithm: "sha256" } };
  if (signing === "hmac-sha512") return { scheme: "hmac", scheme_options: { algorithm: "sha512" } };
  if (signing === "ed25519") return { scheme: "standard" };
  if (typeof signing === "string") return { scheme: signing as SchemeName };
  return signing.options === undefined
    ? { scheme: signing.scheme as SchemeName }
    : { scheme: signing.scheme as SchemeName, scheme_options: signing.options };
}

/** The Herald scheme (name or generic HMAC contract) a spec's `signing` stands for. */
export function schemeOf(signing: SigningSpec): SchemeSpec {
  const { scheme, scheme_options: wire } = signingScheme(signing);
  const options = toSchemeOptions(scheme, wire, "options");
  return options === null ? scheme : ({ name: "hmac", ...options } as SchemeSpec);
}

/** Lowercase names of the headers `signing` sends, sorted. */
export function signingHeaders(signing: SigningSpec): string[] {
  const scheme = schemeOf(signing);
  const secret =
    signing === "ed25519" ? sampleEd25519Secret : "whsec_c2FtcGxlLXNlY3JldC1mb3ItaGVhZGVycw==";
  const headers = signWebhook({
    scheme,
    secret,
    body: "{}",
    id: "msg_sample",
    timestamp: 1_700_000_000,
    url: "https://example.com/webhooks",
  });
  return Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort();
}

// A fixed Ed25519 signing secret (whsk_ + base64 of a 32-byte seed), only to learn header names.
const sampleEd25519Secret = "whsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
