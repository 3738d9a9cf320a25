// Sources read per webhook would cost a database round trip each; they change rarely, so each
// process keeps them for a second. A change through this process's API is seen at once
// (invalidate); one made elsewhere (the CLI, another server) within `ttlMs`.
//
// A stored source that cannot verify anything (a secret its scheme cannot use, bad hmac
// options: written before the API checked them, or straight into the database) is found when it
// is loaded: its webhooks are answered 503 `source.misconfigured`, not 500. The sender did
// nothing wrong and its webhook may be genuine, so the answer must neither blame it (4xx, which
// many providers never retry) nor leak a verification result; a 503 makes providers keep the
// webhook and retry, so nothing is lost once the secret is fixed, and `onUnusable` tells the
// operator why.

import type { SourceRecord } from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { SchemeSpec } from "@heraldjs/webhooks/internal/signing/registry.js";
import { secretProblem } from "@heraldjs/webhooks/internal/signing/secretCheck.js";

export interface CachedSource {
  record: SourceRecord;
  /** Built once per cached record (the hmac scheme compiles its options once per spec object). */
  scheme: SchemeSpec;
}

export interface SourceCache {
  /**
   * undefined when no source has this name. Rejects as the store does (store.unavailable), and
   * with `source.misconfigured` for a source that cannot verify any webhook.
   */
  get(name: string): Promise<CachedSource | undefined>;
  invalidate(name?: string): void;
}

export interface SourceCacheOptions {
  /** Default 1000. */
  ttlMs?: number;
  now?: () => number;
  /** Told (once per load) why a stored source cannot verify webhooks. */
  onUnusable?: (source: string, reason: string) => void;
}

interface Entry {
  value: CachedSource | undefined;
  /** Why the source cannot verify webhooks, when it cannot. */
  unusable: string | undefined;
  expiresAt: number;
}

const MAX_ENTRIES = 1000;

function schemeSpecOf(source: SourceRecord): SchemeSpec {
  if (source.scheme === "hmac") {
    return { name: "hmac", ...(source.schemeOptions ?? {}) } as SchemeSpec;
  }
  return source.scheme as SchemeSpec;
}

/** Why `source` cannot verify any webhook (the secret rule of the API, checkSecret), or undefined. */
function unusableSource(source: SourceRecord, scheme: SchemeSpec): string | undefined {
  if (source.secrets.length === 0) return "it has no secret";
  try {
    for (const [i, secret] of source.secrets.entries()) {
      const problem = secretProblem(scheme, secret, "verify");
      if (problem !== undefined)
        return `secrets[${i}] is not a usable ${source.scheme} secret: ${problem}`;
    }
  } catch (error) {
    if (error instanceof HeraldError) return error.message; // scheme.invalid_options, …
    throw error;
  }
  return undefined;
}

function misconfigured(name: string): HeraldError {
  return new HeraldError(
    "source.misconfigured",
    `The source ${JSON.stringify(name)} cannot verify webhooks until its configuration is fixed; the webhook was not stored, retry later`,
  );
}

export function createSourceCache(
  store: Pick<DeliveryStore, "getSource">,
  options: SourceCacheOptions = {},
): SourceCache {
  const { ttlMs = 1000, now = () => performance.now(), onUnusable } = options;
  const entries = new Map<string, Entry>();
  return {
    async get(name) {
      const hit = entries.get(name);
      if (hit !== undefined && hit.expiresAt > now()) {
        if (hit.unusable !== undefined) throw misconfigured(name);
        return hit.value;
      }
      const record = await store.getSource(name);
      const value = record === undefined ? undefined : { record, scheme: schemeSpecOf(record) };
      const unusable = value === undefined ? undefined : unusableSource(value.record, value.scheme);
      // Unknown names are cached too (a flood of them must not each reach the database), in a
      // bounded map: the oldest entry goes first.
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      entries.set(name, { value, unusable, expiresAt: now() + ttlMs });
      if (unusable !== undefined) {
        onUnusable?.(name, unusable);
        throw misconfigured(name);
      }
      return value;
    },
    invalidate(name) {
      if (name === undefined) entries.clear();
      else entries.delete(name);
    },
  };
}
