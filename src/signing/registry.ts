// The scheme registry: built-in schemes by name, generic HMAC contracts from options, and any
// object implementing WebhookScheme for custom providers.
import { HeraldError } from "../core/errors.js";
import { standardScheme } from "./schemes/standard.js";
import type { WebhookScheme } from "./types.js";

export const builtinSchemes = {
  standard: standardScheme,
} satisfies Record<string, WebhookScheme>;

export type SchemeName = keyof typeof builtinSchemes;

/** A scheme by name, or a scheme object (custom schemes). */
export type SchemeSpec = SchemeName | WebhookScheme;

export const schemeNames = Object.keys(builtinSchemes) as SchemeName[];

function isScheme(value: unknown): value is WebhookScheme {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WebhookScheme).verify === "function" &&
    typeof (value as WebhookScheme).sign === "function"
  );
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
  throw new HeraldError("scheme.unknown", "A scheme is a name or an object with sign and verify");
}
