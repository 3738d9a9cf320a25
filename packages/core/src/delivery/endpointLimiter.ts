// Per-endpoint flow control shared by all of a worker's concurrent sends: a rate limit and a max in-flight.

import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { createTokenBucket, type TokenBucket } from "./tokenBucket.js";

/** The endpoint fields the limiter reads; null or absent means "no limit". */
export interface EndpointLimits {
  id: string;
  /** Sends per second (fractions allowed), > 0. */
  rateLimitPerS?: number | null;
  /** Sends at once, a positive integer. */
  maxInFlight?: number | null;
}

export type AcquireResult =
  | { ok: true; release(): void }
  | { ok: false; reason: "rate_limited" | "max_in_flight"; retryInMs: number };

export interface EndpointLimiterOptions {
  clock: Clock;
  /**
   * Extra capacity a quiet endpoint may spend at once, in seconds of its rate:
   * burst = max(1, rate × burstSeconds). 0 (default) spaces sends 1/rate apart, so no window
   * of t seconds holds more than rate × t + 1 sends; 1 allows a full second's worth at once.
   */
  burstSeconds?: number;
  /** Suggested wait when refused for max in-flight (a slot frees when a send ends). Default 100 ms. */
  inFlightRetryMs?: number;
  /** How often (clock time) idle endpoints are swept out of memory. Default 60 s. */
  sweepIntervalMs?: number;
}

export interface EndpointLimiter {
  /**
   * Takes one rate token and one in-flight slot for the endpoint, both or neither. On success
   * call `release()` once the attempt has ended (any outcome); extra calls do nothing.
   */
  tryAcquire(endpoint: EndpointLimits): AcquireResult;
  /** Sends currently holding a slot for this endpoint. */
  inFlight(endpointId: string): number;
  /** Endpoints currently held in memory (busy, or with a bucket still refilling). */
  trackedEndpoints(): number;
}

const DEFAULT_IN_FLIGHT_RETRY_MS = 100;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

interface EndpointState {
  inFlight: number;
  rate: number | null;
  bucket: TokenBucket | null;
}

function nonNegative(key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new HeraldError("config.invalid", `Invalid endpoint limiter: ${key} must be ≥ 0`, {
      details: { key, value },
    });
  }
  return value;
}

function endpointInvalid(endpoint: EndpointLimits, key: string, problem: string): never {
  throw new HeraldError("endpoint.invalid", `Endpoint ${endpoint.id}: ${key} ${problem}`, {
    details: { endpointId: endpoint.id, key },
  });
}

/** Checks an endpoint's limits; returns them with "no limit" as null. */
function readLimits(endpoint: EndpointLimits): { rate: number | null; max: number | null } {
  if (typeof endpoint.id !== "string" || endpoint.id === "") {
    throw new HeraldError("endpoint.invalid", "Endpoint id must be a non-empty string");
  }
  const rate = endpoint.rateLimitPerS ?? null;
  if (rate !== null && (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0)) {
    endpointInvalid(endpoint, "rateLimitPerS", "must be a finite number > 0 or null");
  }
  const max = endpoint.maxInFlight ?? null;
  if (max !== null && (!Number.isSafeInteger(max) || max < 1)) {
    endpointInvalid(endpoint, "maxInFlight", "must be a positive integer or null");
  }
  return { rate, max };
}

export function createEndpointLimiter(options: EndpointLimiterOptions): EndpointLimiter {
  const { clock } = options;
  if (clock === undefined || typeof clock.now !== "function") {
    throw new HeraldError("config.invalid", "Invalid endpoint limiter: clock must be a Clock");
  }
  const burstSeconds = nonNegative("burstSeconds", options.burstSeconds ?? 0);
  const inFlightRetryMs = nonNegative(
    "inFlightRetryMs",
    options.inFlightRetryMs ?? DEFAULT_IN_FLIGHT_RETRY_MS,
  );
  const sweepIntervalMs = nonNegative(
    "sweepIntervalMs",
    options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
  );

  const states = new Map<string, EndpointState>();
  let lastSweep = clock.now();

  // Forgetting an idle endpoint loses nothing: a new state starts with a full bucket and no
  // sends in flight, exactly what this one holds. So memory is bounded by the endpoints that
  // are busy or sent within the last refill time, whatever the number of endpoints ever seen.
  function isIdle(state: EndpointState): boolean {
    return (
      state.inFlight === 0 &&
      (state.bucket === null || state.bucket.available() >= state.bucket.burst - 1e-9)
    );
  }

  function sweepIfDue(): void {
    const now = clock.now();
    if (now - lastSweep < sweepIntervalMs && now >= lastSweep) return;
    lastSweep = now;
    for (const [id, state] of states) if (isIdle(state)) states.delete(id);
  }

  /** Applies the endpoint's current rate; a changed rate keeps the tokens left, not a fresh burst. */
  function syncRate(state: EndpointState, rate: number | null): void {
    if (state.rate === rate) return;
    const previous = state.bucket;
    state.rate = rate;
    if (rate === null) {
      state.bucket = null;
      return;
    }
    const burst = Math.max(1, rate * burstSeconds);
    state.bucket = createTokenBucket({
      ratePerSecond: rate,
      burst,
      clock,
      initialTokens: previous === null ? burst : Math.min(burst, previous.available()),
    });
  }

  return {
    tryAcquire(endpoint) {
      const limits = readLimits(endpoint);
      const id = endpoint.id;
      sweepIfDue();
      let state = states.get(id);
      if (state === undefined) {
        state = { inFlight: 0, rate: null, bucket: null };
        states.set(id, state);
      }
      syncRate(state, limits.rate);

      // The slot is checked before the token is taken, so a refusal never spends a token.
      if (limits.max !== null && state.inFlight >= limits.max) {
        const rateWait = state.bucket?.msUntilAvailable() ?? 0;
        return {
          ok: false,
          reason: "max_in_flight",
          retryInMs: Math.max(inFlightRetryMs, rateWait),
        };
      }
      if (state.bucket !== null && !state.bucket.tryTake()) {
        return { ok: false, reason: "rate_limited", retryInMs: state.bucket.msUntilAvailable() };
      }

      state.inFlight += 1;
      const held = state;
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          held.inFlight -= 1;
          if (states.get(id) === held && isIdle(held)) states.delete(id);
        },
      };
    },
    inFlight(endpointId) {
      return states.get(endpointId)?.inFlight ?? 0;
    },
    trackedEndpoints() {
      return states.size;
    },
  };
}
