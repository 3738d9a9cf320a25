// Sources read per webhook would cost a database round trip each; they change rarely, so each
// process keeps them for a second. A change through this process's API is seen at once
// (invalidate); one made elsewhere (the CLI, another server) within `ttlMs`.
import type { SchemeSpec } from "../../signing/registry.js";
import type { DeliveryStore, SourceRecord } from "../../store/deliveryPorts.js";

export interface CachedSource {
  record: SourceRecord;
  /** Built once per cached record (the hmac scheme compiles its options once per spec object). */
  scheme: SchemeSpec;
}

export interface SourceCache {
  /** undefined when no source has this name. Rejects as the store does (store.unavailable). */
  get(name: string): Promise<CachedSource | undefined>;
  invalidate(name?: string): void;
}

interface Entry {
  value: CachedSource | undefined;
  expiresAt: number;
}

const MAX_ENTRIES = 1000;

export function schemeSpecOf(source: SourceRecord): SchemeSpec {
  if (source.scheme === "hmac") {
    return { name: "hmac", ...(source.schemeOptions ?? {}) } as SchemeSpec;
  }
  return source.scheme as SchemeSpec;
}

export function createSourceCache(
  store: Pick<DeliveryStore, "getSource">,
  ttlMs = 1000,
  now: () => number = () => performance.now(),
): SourceCache {
  const entries = new Map<string, Entry>();
  return {
    async get(name) {
      const hit = entries.get(name);
      if (hit !== undefined && hit.expiresAt > now()) return hit.value;
      const record = await store.getSource(name);
      const value = record === undefined ? undefined : { record, scheme: schemeSpecOf(record) };
      // Unknown names are cached too (a flood of them must not each reach the database), in a
      // bounded map: the oldest entry goes first.
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      entries.set(name, { value, expiresAt: now() + ttlMs });
      return value;
    },
    invalidate(name) {
      if (name === undefined) entries.clear();
      else entries.delete(name);
    },
  };
}
