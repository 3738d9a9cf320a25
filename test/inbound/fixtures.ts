// Shared test fixtures for the inbound suites: a Standard Webhooks secret, signed requests, and
// a DedupeStore wrapper that counts calls and can be told to fail.
import {
  createMemoryDedupeStore,
  createReceiver,
  type ReceiverOptions,
  signWebhook,
  type WebhookContext,
} from "@heraldjs/webhooks";
import { vi } from "vitest";
import type { DedupeStore } from "../../packages/core/src/store/ports.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

export const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const otherSecret = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=";

/** A JSON body with odd whitespace and non-ASCII bytes: re-serialising it would change it. */
export const unusualJson = '{ "a" :  "é€😀" ,\n\t"b":[1 , 2] }';

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function signedHeaders(
  body: string | Uint8Array,
  { id = "msg_1", timestamp = nowSeconds(), key = secret } = {},
): Record<string, string> {
  return signWebhook({ scheme: "standard", secret: key, id, timestamp, body });
}

export interface CountingStore extends DedupeStore {
  calls: { claim: number; complete: number; release: number };
  failing: Partial<Record<"claim" | "complete" | "release", Error>>;
}

/** Delegates to `inner`, counting calls; a method listed in `failing` rejects instead. */
export function countingStore(inner: DedupeStore): CountingStore {
  const calls = { claim: 0, complete: 0, release: 0 };
  const failing: CountingStore["failing"] = {};
  const guard = (name: keyof typeof calls) => {
    calls[name]++;
    const error = failing[name];
    if (error !== undefined) throw error;
  };
  return {
    calls,
    failing,
    async claim(key, leaseMs) {
      guard("claim");
      return inner.claim(key, leaseMs);
    },
    async complete(key, token, ttlMs) {
      guard("complete");
      return inner.complete(key, token, ttlMs);
    },
    async release(key, token) {
      guard("release");
      return inner.release(key, token);
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}

export function parse(body: string): unknown {
  return JSON.parse(body);
}

/** The fixed time (Unix seconds) the receiver suites run at. */
export const T = 1_700_000_000;

/** A standard-scheme receiver on a manual clock, a counting memory store and a recording handler. */
export function receiverSetup(overrides: Partial<ReceiverOptions> = {}) {
  const clock = new ManualClock(T * 1000);
  const store = countingStore(createMemoryDedupeStore({ clock }));
  const seen: WebhookContext[] = [];
  const onError = vi.fn();
  const receiver = createReceiver({
    scheme: "standard",
    secrets: [secret],
    dedupe: store,
    clock,
    onError,
    handler: (webhook) => {
      seen.push(webhook);
    },
    ...overrides,
  });
  return { receiver, store, seen, clock, onError };
}
