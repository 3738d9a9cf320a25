// Whether a scheme can use a secret, found by using it once: to sign (an endpoint's secret) or
// to verify (a source's: a Standard Webhooks `whpk_` public key verifies but cannot sign). The
// rule is then each scheme's own and cannot drift from what signing and verifying accept.
import { isHeraldError } from "../core/errors.js";
import type { SchemeSpec } from "./registry.js";
import { generateSecret, signWebhook, verifyWebhook } from "./sign.js";

export type SecretUse = "sign" | "verify";

const CHECK = {
  id: "msg_secret_check",
  timestamp: 1_700_000_000,
  body: '{"check":true}',
  url: "https://example.com/secret-check",
} as const;

/**
 * Why `scheme` cannot `use` the secret (the scheme's own message, which describes the form
 * expected and never repeats the secret), or undefined when it can. A secret to sign with must
 * also verify what it signed (a receiver holds the same secret). Throws what resolving the
 * scheme throws (`scheme.unknown`, `scheme.invalid_options`).
 */
export function secretProblem(
  scheme: SchemeSpec,
  secret: string,
  use: SecretUse,
): string | undefined {
  let headers: Record<string, string>;
  try {
    // Verifying: a request signed with a fresh secret of the scheme, which a usable secret then
    // fails only to match (signature.invalid).
    headers = signWebhook({
      scheme,
      secret: use === "sign" ? secret : generateSecret(scheme),
      ...CHECK,
    });
  } catch (error) {
    if (isHeraldError(error, "secret.invalid") || isHeraldError(error, "secret.missing")) {
      return error.message;
    }
    throw error;
  }
  const result = verifyWebhook({
    scheme,
    secrets: [secret],
    headers,
    body: CHECK.body,
    url: CHECK.url,
    now: new Date(CHECK.timestamp * 1000),
  });
  if (!result.ok && (result.code === "secret.invalid" || result.code === "secret.missing")) {
    return result.message;
  }
  return undefined;
}
