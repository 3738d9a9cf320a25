import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  HeraldError,
  maxAttempts,
  normalizeRetryPolicy,
} from "../../packages/core/src/index.js";

function badKey(input: unknown): unknown {
  try {
    normalizeRetryPolicy(input);
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe("retry.invalid_policy");
    return (error as HeraldError).details?.key;
  }
  throw new Error("expected retry.invalid_policy");
}

describe("normalizeRetryPolicy", () => {
  it("accepts the shapes of the POST /v1/endpoints example", () => {
    expect(normalizeRetryPolicy({ schedule_s: [5, 300] })).toEqual({ schedule_s: [5, 300] });
    expect(normalizeRetryPolicy({ backoff: "exponential", base_s: 30, max_attempts: 5 })).toEqual({
      backoff: "exponential",
      base_s: 30,
      max_attempts: 5,
    });
  });

  it("keeps every optional key and returns a copy", () => {
    const input = { schedule_s: [0, 0.25], jitter: 0, max_delay_s: 0.2 };
    const out = normalizeRetryPolicy(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    const exp = {
      backoff: "exponential",
      base_s: 1,
      factor: 1.5,
      max_attempts: 3,
      jitter: 1,
      max_delay_s: 10,
    };
    expect(normalizeRetryPolicy(exp)).toEqual(exp);
    const lin = { backoff: "linear", base_s: 0.1, max_attempts: 1 };
    expect(normalizeRetryPolicy(lin)).toEqual(lin);
  });

  it("gives the default policy for a missing policy", () => {
    expect(normalizeRetryPolicy(undefined)).toBe(DEFAULT_RETRY_POLICY);
    expect(normalizeRetryPolicy(null)).toBe(DEFAULT_RETRY_POLICY);
  });

  const cases: [string, unknown, string][] = [
    ["not an object", [5, 300], ""],
    ["a string", "exponential", ""],
    ["neither schedule_s nor backoff", { max_attempts: 3 }, "schedule_s"],
    ["both schedule_s and backoff", { schedule_s: [], backoff: "linear" }, "backoff"],
    ["schedule_s not an array", { schedule_s: 5 }, "schedule_s"],
    ["schedule_s with a string", { schedule_s: [5, "300"] }, "schedule_s[1]"],
    ["schedule_s negative", { schedule_s: [-1] }, "schedule_s[0]"],
    ["schedule_s infinite", { schedule_s: [1, 2, Number.POSITIVE_INFINITY] }, "schedule_s[2]"],
    ["schedule_s over 30 days", { schedule_s: [2_592_001] }, "schedule_s[0]"],
    ["schedule_s too long", { schedule_s: Array(100).fill(1) }, "schedule_s"],
    ["schedule_s with max_attempts", { schedule_s: [1], max_attempts: 3 }, "max_attempts"],
    ["misspelt key", { backoff: "exponential", base_s: 1, max_attempt: 3 }, "max_attempt"],
    ["unknown backoff", { backoff: "fibonacci", base_s: 1, max_attempts: 3 }, "backoff"],
    ["base_s missing", { backoff: "linear", max_attempts: 3 }, "base_s"],
    ["base_s zero", { backoff: "linear", base_s: 0, max_attempts: 3 }, "base_s"],
    ["base_s a string", { backoff: "linear", base_s: "1", max_attempts: 3 }, "base_s"],
    ["max_attempts missing", { backoff: "linear", base_s: 1 }, "max_attempts"],
    ["max_attempts zero", { backoff: "linear", base_s: 1, max_attempts: 0 }, "max_attempts"],
    ["max_attempts fraction", { backoff: "linear", base_s: 1, max_attempts: 2.5 }, "max_attempts"],
    ["max_attempts over 100", { backoff: "linear", base_s: 1, max_attempts: 101 }, "max_attempts"],
    ["factor on linear", { backoff: "linear", base_s: 1, max_attempts: 3, factor: 2 }, "factor"],
    [
      "factor below 1",
      { backoff: "exponential", base_s: 1, max_attempts: 3, factor: 0.5 },
      "factor",
    ],
    [
      "factor NaN",
      { backoff: "exponential", base_s: 1, max_attempts: 3, factor: Number.NaN },
      "factor",
    ],
    ["jitter above 1", { schedule_s: [1], jitter: 1.5 }, "jitter"],
    ["jitter negative", { schedule_s: [1], jitter: -0.1 }, "jitter"],
    ["jitter a percentage string", { schedule_s: [1], jitter: "20%" }, "jitter"],
    ["max_delay_s zero", { schedule_s: [1], max_delay_s: 0 }, "max_delay_s"],
    ["max_delay_s null", { schedule_s: [1], max_delay_s: null }, "max_delay_s"],
  ];
  it.each(cases)("rejects %s, naming the key", (_name, input, key) => {
    expect(badKey(input)).toBe(key);
  });

  it("puts the key and the problem in the message", () => {
    expect(() => normalizeRetryPolicy({ schedule_s: [5, "300"] })).toThrow(
      'Invalid retry policy: schedule_s[1] must be a number of seconds ≥ 0 and ≤ 2592000 (got "300")',
    );
    expect(() =>
      normalizeRetryPolicy({ backoff: "linear", base_s: 1, max_attempts: 3, factor: 2 }),
    ).toThrow(/factor is not a valid key for linear backoff/);
  });

  it("property: valid schedules normalise to themselves and allow 1 + length attempts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2_592_000, noNaN: true }), { maxLength: 99 }),
        (schedule_s) => {
          const policy = normalizeRetryPolicy({ schedule_s });
          expect(policy).toEqual({ schedule_s });
          expect(maxAttempts(policy)).toBe(1 + schedule_s.length);
        },
      ),
    );
  });

  it("property: never throws anything but retry.invalid_policy", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          normalizeRetryPolicy(input);
        } catch (error) {
          expect((error as HeraldError).code).toBe("retry.invalid_policy");
        }
      }),
    );
  });
});
