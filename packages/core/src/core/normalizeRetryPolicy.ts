// Validation of retry policies written by users (API bodies, herald.yaml): strict types, no
// unknown keys (a misspelt `max_attempt` must not silently fall back to a default).

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import {
  DEFAULT_RETRY_POLICY,
  type ExponentialRetryPolicy,
  type LinearRetryPolicy,
  type RetryPolicy,
  type ScheduleRetryPolicy,
} from "./retryPolicy.js";

/** 30 days: the longest single delay, base or cap; longer is almost surely a unit mistake. */
export const MAX_RETRY_DELAY_S = 2_592_000;
/** Most attempts a policy may allow, the first one included. */
export const MAX_RETRY_ATTEMPTS = 100;
export const MAX_EXPONENTIAL_FACTOR = 100;

const COMMON_KEYS = ["jitter", "max_delay_s"];
const KEYS = {
  schedule: new Set(["schedule_s", ...COMMON_KEYS]),
  exponential: new Set(["backoff", "base_s", "factor", "max_attempts", ...COMMON_KEYS]),
  linear: new Set(["backoff", "base_s", "max_attempts", ...COMMON_KEYS]),
};

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function fail(key: string, problem: string): never {
  throw new HeraldError("retry.invalid_policy", `Invalid retry policy: ${key} ${problem}`, {
    details: { key },
  });
}

function seconds(
  value: unknown,
  key: string,
  { min, exclusive }: { min: number; exclusive: boolean },
): number {
  if (value === undefined) fail(key, "is required");
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (exclusive ? value > min : value >= min) &&
    value <= MAX_RETRY_DELAY_S;
  if (!ok) {
    const bound = `${exclusive ? ">" : "≥"} ${min}`;
    fail(
      key,
      `must be a number of seconds ${bound} and ≤ ${MAX_RETRY_DELAY_S} (got ${describe(value)})`,
    );
  }
  return value as number;
}

function attempts(value: unknown, key: string): number {
  if (value === undefined) fail(key, "is required");
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_RETRY_ATTEMPTS
  ) {
    fail(key, `must be an integer from 1 to ${MAX_RETRY_ATTEMPTS} (got ${describe(value)})`);
  }
  return value;
}

function rejectUnknownKeys(input: Record<string, unknown>, known: Set<string>, kind: string): void {
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      fail(key, `is not a valid key for ${kind} (allowed: ${[...known].join(", ")})`);
  }
}

function common(input: Record<string, unknown>): Pick<RetryPolicy, "jitter" | "max_delay_s"> {
  const out: Pick<RetryPolicy, "jitter" | "max_delay_s"> = {};
  if (input.jitter !== undefined) {
    const { jitter } = input;
    if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
      fail("jitter", `must be a fraction from 0 to 1 (got ${describe(jitter)})`);
    }
    out.jitter = jitter;
  }
  if (input.max_delay_s !== undefined) {
    // Below 1 ms the whole-millisecond delays would all round to 0.
    out.max_delay_s = seconds(input.max_delay_s, "max_delay_s", { min: 0.001, exclusive: false });
  }
  return out;
}

function schedule(input: Record<string, unknown>): ScheduleRetryPolicy {
  rejectUnknownKeys(input, KEYS.schedule, "an explicit schedule");
  const raw = input.schedule_s;
  if (!Array.isArray(raw))
    fail("schedule_s", `must be an array of delays in seconds (got ${describe(raw)})`);
  if (raw.length > MAX_RETRY_ATTEMPTS - 1) {
    fail("schedule_s", `must hold at most ${MAX_RETRY_ATTEMPTS - 1} delays`);
  }
  // An explicit schedule may retry at once (0 s): tests and local tooling want that.
  const schedule_s = raw.map((d, i) =>
    seconds(d, `schedule_s[${i}]`, { min: 0, exclusive: false }),
  );
  return { schedule_s, ...common(input) };
}

function backoff(input: Record<string, unknown>): ExponentialRetryPolicy | LinearRetryPolicy {
  const kind = input.backoff;
  if (kind !== "exponential" && kind !== "linear") {
    fail("backoff", `must be "exponential" or "linear" (got ${describe(kind)})`);
  }
  rejectUnknownKeys(input, KEYS[kind], `${kind} backoff`);
  const base_s = seconds(input.base_s, "base_s", { min: 0, exclusive: true });
  const max_attempts = attempts(input.max_attempts, "max_attempts");
  if (kind === "linear") return { backoff: kind, base_s, max_attempts, ...common(input) };
  const policy: ExponentialRetryPolicy = { backoff: kind, base_s, max_attempts, ...common(input) };
  if (input.factor !== undefined) {
    const { factor } = input;
    if (typeof factor !== "number" || !(factor >= 1 && factor <= MAX_EXPONENTIAL_FACTOR)) {
      fail(
        "factor",
        `must be a number from 1 to ${MAX_EXPONENTIAL_FACTOR} (got ${describe(factor)})`,
      );
    }
    policy.factor = factor;
  }
  return policy;
}

/**
 * Validates a user-supplied retry policy (snake_case, as on the wire) and returns a clean copy;
 * defaults are applied when delays are computed, not written in. `undefined` or `null` (no
 * `retry` in the config) give DEFAULT_RETRY_POLICY. Throws HeraldError `retry.invalid_policy`
 * with `details.key` naming the offending key, e.g. `schedule_s[2]`.
 */
export function normalizeRetryPolicy(input: unknown): RetryPolicy {
  if (input === undefined || input === null) return DEFAULT_RETRY_POLICY;
  if (!isPlainObject(input)) {
    throw new HeraldError(
      "retry.invalid_policy",
      `Invalid retry policy: expected an object (got ${describe(input)})`,
      {
        details: { key: "" },
      },
    );
  }
  const hasSchedule = "schedule_s" in input;
  const hasBackoff = "backoff" in input;
  if (hasSchedule && hasBackoff) fail("backoff", "cannot be combined with schedule_s");
  if (hasSchedule) return schedule(input);
  if (hasBackoff) return backoff(input);
  throw new HeraldError(
    "retry.invalid_policy",
    'Invalid retry policy: expected schedule_s (explicit delays) or backoff ("exponential" or "linear")',
    { details: { key: "schedule_s" } },
  );
}
