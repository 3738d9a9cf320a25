// The headers a webhook's signing puts on each request, read off a sample signature so they
// always match what Herald sends and checks (names only; values are per request).

import { signWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import { toSchemeOptions } from "../wire/schemeOptions.js";
import type { SigningSpec } from "./schema.js";

/** The Herald scheme (name or generic HMAC contract) a spec's `signing` stands for. */
export function schemeOf(signing: SigningSpec) {
  if (typeof signing === "string") {
    if (signing === "hmac-sha256") return { name: "hmac" as const, algorithm: "sha256" as const };
    if (signing === "hmac-sha512") return { name: "hmac" as const, algorithm: "sha512" as const };
    if (signing === "ed25519") return "standard" as const;
    return signing as Exclude<SigningSpec, object>;
  }
  const options = toSchemeOptions(signing.scheme, signing.options, "options");
  return options === null ? signing.scheme : { name: "hmac" as const, ...options };
}

/** Lowercase names of the headers `signing` sends, sorted. */
export function signingHeaders(signing: SigningSpec): string[] {
  const scheme = schemeOf(signing) as Parameters<typeof signWebhook>[0]["scheme"];
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
