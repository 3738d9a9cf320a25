// The token bucket over simulated time: rate and burst honoured, fractional rates, validation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createTokenBucket } from "../../packages/core/src/delivery/tokenBucket.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

describe("createTokenBucket", () => {
  it("starts full with burst = max(1, rate) and refuses once empty", () => {
    const clock = new ManualClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 5, clock });
    expect(bucket.burst).toBe(5);
    for (let i = 0; i < 5; i++) expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.msUntilAvailable()).toBe(200);
    clock.advance(199);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  it("sends at most rate × t + burst over 10 simulated seconds of eager takers", () => {
    const clock = new ManualClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, clock });
    let taken = 0;
    for (let ms = 0; ms <= 10_000; ms++) {
      while (bucket.tryTake()) taken++;
      clock.advance(1);
    }
    expect(taken).toBeLessThanOrEqual(10 * 10 + bucket.burst);
    expect(taken).toBe(10 * 10 + bucket.burst); // and does not starve either
  });

  it("supports fractional rates: 0.5/s gives one token every two seconds, burst 1", () => {
    const clock = new ManualClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 0.5, clock });
    expect(bucket.burst).toBe(1);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.msUntilAvailable()).toBe(2_000);
    clock.advance(1_999);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  it("takes n tokens all or nothing; n > burst is never available", () => {
    const clock = new ManualClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 2, burst: 4, clock });
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tryTake(3)).toBe(false);
    expect(bucket.available()).toBeCloseTo(1);
    expect(bucket.msUntilAvailable(3)).toBe(1_000);
    expect(bucket.msUntilAvailable(5)).toBe(Number.POSITIVE_INFINITY);
    expect(bucket.tryTake(5)).toBe(false);
    expect(() => bucket.tryTake(0)).toThrow(RangeError);
  });

  it("never holds more than burst, however long it idles", () => {
    const clock = new ManualClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 100, burst: 3, clock });
    clock.advance(86_400_000);
    expect(bucket.available()).toBe(3);
  });

  it("mints nothing when the clock steps backwards and forwards again", () => {
    const clock = new ManualClock(10_000);
    const bucket = createTokenBucket({ ratePerSecond: 1, clock });
    expect(bucket.tryTake()).toBe(true);
    clock.set(5_000);
    expect(bucket.tryTake()).toBe(false);
    clock.set(10_500);
    expect(bucket.tryTake()).toBe(false);
    clock.set(11_000);
    expect(bucket.tryTake()).toBe(true);
  });

  it("starts from initialTokens when given", () => {
    const bucket = createTokenBucket({
      ratePerSecond: 1,
      clock: new ManualClock(),
      initialTokens: 0,
    });
    expect(bucket.tryTake()).toBe(false);
  });

  it.each([
    [{ ratePerSecond: 0 }],
    [{ ratePerSecond: -1 }],
    [{ ratePerSecond: Number.NaN }],
    [{ ratePerSecond: Number.POSITIVE_INFINITY }],
    [{ ratePerSecond: 1, burst: 0.5 }],
    [{ ratePerSecond: 1, burst: Number.POSITIVE_INFINITY }],
    [{ ratePerSecond: 1, burst: 2, initialTokens: 3 }],
    [{ ratePerSecond: 1, initialTokens: -1 }],
  ])("rejects %o with config.invalid", (options) => {
    let thrown: unknown;
    try {
      createTokenBucket({ ...options, clock: new ManualClock() });
    } catch (error) {
      thrown = error;
    }
    expect(isHeraldError(thrown, "config.invalid")).toBe(true);
  });

  it("property: no window of t ms ever holds more than rate × t / 1000 + burst takes", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 200, noNaN: true }),
        fc.option(fc.double({ min: 1, max: 50, noNaN: true }), { nil: undefined }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 20 })), {
          maxLength: 60,
        }),
        (ratePerSecond, burst, steps) => {
          const clock = new ManualClock(1_000_000);
          const bucket = createTokenBucket({ ratePerSecond, burst, clock });
          const times: number[] = [];
          for (const [advance, attempts] of steps) {
            clock.advance(advance);
            for (let i = 0; i < attempts; i++) if (bucket.tryTake()) times.push(clock.now());
          }
          for (let i = 0; i < times.length; i++) {
            for (let j = i; j < times.length; j++) {
              const allowed = (ratePerSecond * (times[j]! - times[i]!)) / 1000 + bucket.burst;
              expect(j - i + 1).toBeLessThanOrEqual(allowed + 1e-6);
            }
          }
        },
      ),
    );
  });

  it("property: after msUntilAvailable() ms a take succeeds", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1_000, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        (ratePerSecond, drained) => {
          const clock = new ManualClock(0);
          const bucket = createTokenBucket({ ratePerSecond, clock });
          for (let i = 0; i < drained; i++) bucket.tryTake();
          clock.advance(bucket.msUntilAvailable());
          expect(bucket.tryTake()).toBe(true);
        },
      ),
    );
  });
});
