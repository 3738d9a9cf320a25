// Delivery id prefixes (`herald replay dlv_01J9X`): a prefix becomes a half-open id range, which
// every backend answers from the primary key without LIKE and its `_` wildcard.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { invalid } from "./check.js";
import { DEFAULT_PREFIX_MATCHES } from "./constants.js";

interface IdRange {
  /** Inclusive. */
  from: string;
  /** Exclusive. */
  to: string;
}

/**
 * The id range a prefix covers, or null when no delivery id can start with it. `dlv_` may be
 * left out and the ULID part may be typed in lowercase: ids are canonical uppercase.
 */
export function deliveryIdRange(prefix: unknown): IdRange | null {
  if (typeof prefix !== "string" || prefix.trim().length === 0) {
    throw invalid("query.invalid", "prefix", "must be a non-empty string");
  }
  const trimmed = prefix.trim();
  const ulid = trimmed.startsWith("dlv_") ? trimmed.slice(4) : trimmed;
  const from = `dlv_${ulid.toUpperCase()}`;
  if (!/^dlv_[0-9A-HJKMNP-TV-Z]{0,26}$/.test(from)) return null;
  // Every id in the range shares the prefix: bump its last character by one for the upper bound.
  const last = from.charCodeAt(from.length - 1);
  return { from, to: from.slice(0, -1) + String.fromCharCode(last + 1) };
}

export function prefixLimit(limit: unknown): number {
  const value = limit ?? DEFAULT_PREFIX_MATCHES;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 1000) {
    throw invalid("query.invalid", "limit", "must be an integer from 1 to 1000");
  }
  return value;
}

/** The single id of `matches`, else `delivery.not_found` / `delivery.ambiguous_prefix`. */
export function uniqueMatch(prefix: string, matches: readonly string[]): string {
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new HeraldError(
      "delivery.not_found",
      `No delivery id starts with ${JSON.stringify(prefix)}`,
      {
        details: { prefix },
      },
    );
  }
  throw new HeraldError(
    "delivery.ambiguous_prefix",
    `Several deliveries start with ${JSON.stringify(prefix)}; type more of the id`,
    { details: { prefix, matches: [...matches] } },
  );
}
