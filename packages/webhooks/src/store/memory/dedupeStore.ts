// In-process DedupeStore: the reference implementation. Claims are atomic because JavaScript
// runs each method to completion on one thread; the store is per process, so several
// replicas behind a load balancer need a shared store (Redis, SQL) instead.
import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../../core/clock.js";
import type { DedupeClaim, PrunableDedupeStore } from "../dedupePort.js";

export interface MemoryDedupeStoreOptions {
  clock?: Clock;
  /** How often expired keys are swept (they are also ignored lazily on read); default 60 s. */
  pruneIntervalMs?: number;
}

interface Entry {
  state: "processing" | "done";
  token: string;
  expiresAt: number;
}

export function createMemoryDedupeStore({
  clock = systemClock,
  pruneIntervalMs = 60_000,
}: MemoryDedupeStoreOptions = {}): PrunableDedupeStore {
  const entries = new Map<string, Entry>();

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function prune(): number {
    const now = clock.now();
    let removed = 0;
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= now) {
        entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  // Without the sweep, keys that are never looked up again would stay until the process ends;
  // unref() so an idle store never keeps the process alive.
  let timer: NodeJS.Timeout | undefined = setInterval(prune, pruneIntervalMs);
  timer.unref();

  return {
    async claim(key, leaseMs): Promise<DedupeClaim> {
      const entry = live(key);
      if (entry !== undefined) return { claimed: false, state: entry.state };
      const token = randomUUID();
      entries.set(key, { state: "processing", token, expiresAt: clock.now() + leaseMs });
      return { claimed: true, token };
    },

    async complete(key, token, ttlMs) {
      const entry = live(key);
      if (entry === undefined || entry.state !== "processing" || entry.token !== token) {
        return false;
      }
      entries.set(key, { state: "done", token, expiresAt: clock.now() + ttlMs });
      return true;
    },

    async release(key, token) {
      const entry = live(key);
      if (entry !== undefined && entry.state === "processing" && entry.token === token) {
        entries.delete(key);
      }
    },

    async prune() {
      return prune();
    },

    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      entries.clear();
    },
  };
}
