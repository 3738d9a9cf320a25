import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_BACKOFF_MAX_DELAY_S,
  DEFAULT_RETRY_POLICY,
  type ExponentialRetryPolicy,
  type LinearRetryPolicy,
  maxAttempts,
  nextRetryDelayMs,
  nominalRetryDelayMs,
  type RetryPolicy,
} from "../../packages/core/src/index.js";

const lowest = () => 0;
const middle = () => 0.5;
const highest = () => 0.999_999_999;

/** The delays before each attempt until dead-letter, with a fixed random source. */
function run(policy: RetryPolicy, random: () => number): (number | null)[] {
  const delays: (number | null)[] = [];
  for (let made = 0; made <= maxAttempts(policy); made++) {
    delays.push(nextRetryDelayMs(policy, made, random));
  }
  return delays;
}

describe("default schedule", () => {
  // #region default-schedule
  it("is immediate, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then dead-letter", () => {
    expect(maxAttempts(DEFAULT_RETRY_POLICY)).toBe(8);
    expect(run(DEFAULT_RETRY_POLICY, middle)).toEqual([
      0, // the first attempt
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      null, // 8 attempts made: dead-letter
    ]);
  });
  // #endregion default-schedule

  it("spreads each retry by ±20 %", () => {
    expect(run(DEFAULT_RETRY_POLICY, lowest)).toEqual([
      0,
      4_000,
      240_000,
      1_440_000,
      5_760_000,
      14_400_000,
      28_800_000,
      28_800_000,
      null,
    ]);
    expect(run(DEFAULT_RETRY_POLICY, highest)).toEqual([
      0,
      6_000,
      360_000,
      2_160_000,
      8_640_000,
      21_600_000,
      43_200_000,
      43_200_000,
      null,
    ]);
  });

  it("is frozen so no caller can change it for everyone", () => {
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY.schedule_s)).toBe(true);
  });
});

describe("explicit schedules", () => {
  it("allows 1 + length attempts and fractions of a second", () => {
    const policy = { schedule_s: [0.05, 0.2], jitter: 0 };
    expect(run(policy, middle)).toEqual([0, 50, 200, null]);
  });

  it("with an empty schedule, allows one attempt and no retry", () => {
    expect(run({ schedule_s: [] }, middle)).toEqual([0, null]);
  });

  it("caps delays at max_delay_s, spreading only below the cap", () => {
    const policy = { schedule_s: [10, 100], max_delay_s: 60 };
    expect(run(policy, middle)).toEqual([0, 10_000, 60_000, null]);
    expect(run(policy, highest)).toEqual([0, 12_000, 60_000, null]);
    expect(run(policy, lowest)).toEqual([0, 8_000, 48_000, null]);
  });
});

describe("backoff presets", () => {
  it("exponential: base × factor^(retry − 1), max_attempts in total", () => {
    const policy: RetryPolicy = { backoff: "exponential", base_s: 30, max_attempts: 5, jitter: 0 };
    expect(run(policy, middle)).toEqual([0, 30_000, 60_000, 120_000, 240_000, null]);
    expect(run({ ...policy, factor: 3, max_delay_s: 200 }, middle)).toEqual([
      0,
      30_000,
      90_000,
      200_000,
      200_000,
      null,
    ]);
  });

  it("exponential: defaults to a one-day cap", () => {
    const policy: RetryPolicy = { backoff: "exponential", base_s: 3600, max_attempts: 10 };
    expect(nominalRetryDelayMs(policy, 9)).toBe(DEFAULT_BACKOFF_MAX_DELAY_S * 1000);
  });

  it("linear: base × retry", () => {
    const policy: RetryPolicy = {
      backoff: "linear",
      base_s: 0.5,
      max_attempts: 4,
      max_delay_s: 1.2,
    };
    expect(run(policy, middle)).toEqual([0, 500, 1_000, 1_200, null]);
  });

  it("rejects a negative or fractional attempt count as a caller bug", () => {
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_POLICY, -1)).toThrow(RangeError);
    expect(() => nominalRetryDelayMs(DEFAULT_RETRY_POLICY, 1.5)).toThrow(RangeError);
  });

  it("tolerates a random source outside [0, 1)", () => {
    const policy = { schedule_s: [10] };
    expect(nextRetryDelayMs(policy, 1, () => 7)).toBe(12_000);
    expect(nextRetryDelayMs(policy, 1, () => -1)).toBe(8_000);
    expect(nextRetryDelayMs(policy, 1, () => Number.NaN)).toBe(8_000);
  });
});

const seconds = fc.double({ min: 0, max: 2_592_000, noNaN: true });
const jitter = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined });
const maxDelay = fc.option(fc.double({ min: 0.001, max: 2_592_000, noNaN: true }), {
  nil: undefined,
});
const policies: fc.Arbitrary<RetryPolicy> = fc.oneof(
  fc.record(
    { schedule_s: fc.array(seconds, { maxLength: 99 }), jitter, max_delay_s: maxDelay },
    { requiredKeys: ["schedule_s"] },
  ),
  fc.record(
    {
      backoff: fc.constant("exponential" as const),
      base_s: fc.double({ min: 0.001, max: 2_592_000, noNaN: true }),
      factor: fc.option(fc.double({ min: 1, max: 100, noNaN: true }), { nil: undefined }),
      max_attempts: fc.integer({ min: 1, max: 100 }),
      jitter,
      max_delay_s: maxDelay,
    },
    { requiredKeys: ["backoff", "base_s", "max_attempts"] },
  ),
  fc.record(
    {
      backoff: fc.constant("linear" as const),
      base_s: fc.double({ min: 0.001, max: 2_592_000, noNaN: true }),
      max_attempts: fc.integer({ min: 1, max: 100 }),
      jitter,
      max_delay_s: maxDelay,
    },
    { requiredKeys: ["backoff", "base_s", "max_attempts"] },
  ),
);
const randoms = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("retry properties", () => {
  it("each delay lies within ±jitter of its nominal value and never above max delay", () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 0, max: 120 }), randoms, (policy, made, r) => {
        const nominal = nominalRetryDelayMs(policy, made);
        const delay = nextRetryDelayMs(policy, made, () => r);
        if (nominal === null) {
          expect(delay).toBeNull();
          return;
        }
        const j = policy.jitter ?? 0.2;
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(nominal * (1 - j) - 1e-6);
        expect(delay).toBeLessThanOrEqual(nominal * (1 + j) + 1e-6);
        const capS =
          policy.max_delay_s ?? ("schedule_s" in policy ? Infinity : DEFAULT_BACKOFF_MAX_DELAY_S);
        expect(delay).toBeLessThanOrEqual(capS * 1000);
      }),
    );
  });

  it("returns null exactly once maxAttempts attempts were made", () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 0, max: 120 }), (policy, made) => {
        const exhausted = nextRetryDelayMs(policy, made, Math.random) === null;
        expect(exhausted).toBe(made >= maxAttempts(policy));
      }),
    );
  });

  it("backoff nominal delays never decrease", () => {
    fc.assert(
      fc.property(policies, (policy) => {
        fc.pre("backoff" in policy);
        const exp = policy as ExponentialRetryPolicy | LinearRetryPolicy;
        let previous = 0;
        for (let made = 1; made < maxAttempts(exp); made++) {
          const nominal = nominalRetryDelayMs(exp, made)!;
          expect(nominal).toBeGreaterThanOrEqual(previous);
          previous = nominal;
        }
      }),
    );
  });

  it("is deterministic for a given random source", () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 0, max: 100 }), randoms, (policy, made, r) => {
        expect(nextRetryDelayMs(policy, made, () => r)).toBe(
          nextRetryDelayMs(policy, made, () => r),
        );
      }),
    );
  });
});
