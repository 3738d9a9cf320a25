// The scheme registry: built-in schemes by name, generic HMAC contracts from options, and any
// object implementing WebhookScheme for custom providers.
import { HeraldError } from "../core/errors.js";
import { eventingScheme } from "./schemes/eventing.js";
import { githubScheme } from "./schemes/github.js";
import { createHmacScheme, type HmacSchemeOptions } from "./schemes/hmac.js";
import { shopifyScheme } from "./schemes/shopify.js";
import { slackScheme } from "./schemes/slack.js";
import { standardScheme } from "./schemes/standard.js";
import { stripeScheme } from "./schemes/stripe.js";
import { twilioScheme } from "./schemes/twilio.js";
import type { WebhookScheme } from "./types.js";

export const builtinSchemes = {
  standard: standardScheme,
  stripe: stripeScheme,
  github: githubScheme,
  slack: slackScheme,
  shopify: shopifyScheme,
  twilio: twilioScheme,
  eventing: eventingScheme,
  hmac: createHmacScheme(),
} satisfies Record<string, WebhookScheme>;

export type SchemeName = keyof typeof builtinSchemes;

/** A generic HMAC contract given inline: `{ name: "hmac", signatureHeader: "X-Signature", … }`. */
export type HmacSchemeSpec = { name: "hmac" } & HmacSchemeOptions;

/** A scheme by name, a generic HMAC contract, or a scheme object (custom schemes). */
export type SchemeSpec = SchemeName | WebhookScheme | HmacSchemeSpec;

export const schemeNames = Object.keys(builtinSchemes) as SchemeName[];

function isScheme(value: unknown): value is WebhookScheme {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WebhookScheme).verify === "function" &&
    typeof (value as WebhookScheme).sign === "function"
  );
}

function isHmacSpec(value: unknown): value is HmacSchemeSpec {
  return typeof value === "object" && value !== null && (value as HmacSchemeSpec).name === "hmac";
}

// Built once per options object: the options are validated and compiled at creation.
const hmacSchemes = new WeakMap<HmacSchemeSpec, WebhookScheme>();

function hmacSchemeFor(spec: HmacSchemeSpec): WebhookScheme {
  let scheme = hmacSchemes.get(spec);
  if (scheme === undefined) {
    const { name: _name, ...options } = spec;
    scheme = createHmacScheme(options);
    hmacSchemes.set(spec, scheme);
  }
  return scheme;
}

export function resolveScheme(spec: SchemeSpec): WebhookScheme {
  if (typeof spec === "string") {
    const scheme = (builtinSchemes as Record<string, WebhookScheme>)[spec];
    if (scheme === undefined) {
      throw new HeraldError(
        "scheme.unknown",
        `Unknown signing scheme ${JSON.stringify(spec)}; known: ${schemeNames.join(", ")}`,
      );
    }
    return scheme;
  }
  if (isScheme(spec)) return spec;
  if (isHmacSpec(spec)) return hmacSchemeFor(spec);
  throw new HeraldError(
    "scheme.unknown",
    'A scheme is a name, { name: "hmac", …options }, or an object with sign and verify',
  );
}
