// A token bucket on an injected clock: at most `burst` + ratePerSecond × t takes in any span of t seconds.

import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export interface TokenBucketOptions {
  /** Tokens added per second; fractions allowed (0.5 = one every two seconds). Must be > 0. */
  ratePerSecond: number;
  /** Most tokens the bucket holds (the largest burst). Default max(1, ratePerSecond); must be ≥ 1. */
  burst?: number;
  clock: Clock;
  /** Tokens at creation, in [0, burst]. Default `burst` (a new bucket is full). */
  initialTokens?: number;
}

export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Takes `n` tokens if that many are available now; all or nothing. */
  tryTake(n?: number): boolean;
  /** Milliseconds (whole, rounded up) until `n` tokens are available; 0 when they are now; Infinity when n > burst. */
  msUntilAvailable(n?: number): number;
  /** Tokens available now (fractional). */
  available(): number;
}

/**
 * Slack for floating-point refill arithmetic (0.1 × 10 ≠ 1 exactly). It can hand out at most
 * this much of a token early per take, far below anything observable.
 */
const EPSILON = 1e-9;

function invalid(key: string, problem: string, value: unknown): never {
  throw new HeraldError("config.invalid", `Invalid token bucket: ${key} ${problem}`, {
    details: { key, value },
  });
}

function assertCount(n: number): void {
  // A caller bug, never user input: hence not a HeraldError code.
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`n must be a positive number, got ${n}`);
}

export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, clock } = options;
  if (typeof ratePerSecond !== "number" || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    invalid("ratePerSecond", "must be a finite number > 0", ratePerSecond);
  }
  const burst = options.burst ?? Math.max(1, ratePerSecond);
  if (typeof burst !== "number" || !Number.isFinite(burst) || burst < 1) {
    invalid("burst", "must be a finite number ≥ 1", burst);
  }
  const initial = options.initialTokens ?? burst;
  if (typeof initial !== "number" || !Number.isFinite(initial) || initial < 0 || initial > burst) {
    invalid("initialTokens", `must be a number in [0, ${burst}]`, initial);
  }
  if (clock === undefined || typeof clock.now !== "function") {
    invalid("clock", "must be a Clock", clock);
  }

  let tokens = initial;
  let last = clock.now();

  function refill(): void {
    const now = clock.now();
    // A clock stepping backwards must not mint tokens twice for the same span: keep the high-water mark.
    if (now <= last) return;
    tokens = Math.min(burst, tokens + ((now - last) * ratePerSecond) / 1000);
    last = now;
  }

  return {
    ratePerSecond,
    burst,
    tryTake(n = 1) {
      assertCount(n);
      refill();
      if (tokens + EPSILON < n) return false;
      tokens = Math.max(0, tokens - n);
      return true;
    },
    msUntilAvailable(n = 1) {
      assertCount(n);
      if (n > burst) return Number.POSITIVE_INFINITY;
      refill();
      const deficit = n - tokens;
      if (deficit <= EPSILON) return 0;
      return Math.max(1, Math.ceil((deficit * 1000) / ratePerSecond));
    },
    available() {
      refill();
      return tokens;
    },
  };
}
