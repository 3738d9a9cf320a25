// Retry policies as pure functions of the attempt count, so the worker, the API (next_retry_at,
// max_attempts) and the tests agree and nothing needs to sleep. Keys are snake_case because
// policies arrive as JSON/YAML config; validate them with normalizeRetryPolicy first.

interface RetryPolicyCommon {
  /** Jitter fraction: each delay is drawn uniformly from nominal × (1 ± jitter). Default 0.2. */
  jitter?: number;
  /** Cap on any delay, in seconds (fractions allowed). Presets default to DEFAULT_BACKOFF_MAX_DELAY_S. */
  max_delay_s?: number;
}

/** Explicit delays: `schedule_s[i]` seconds before retry i + 1, so at most 1 + length attempts. */
export interface ScheduleRetryPolicy extends RetryPolicyCommon {
  schedule_s: readonly number[];
}

/** Delay before retry n (n ≥ 1) = base_s × factor^(n − 1). */
export interface ExponentialRetryPolicy extends RetryPolicyCommon {
  backoff: "exponential";
  base_s: number;
  /** Default 2. */
  factor?: number;
  /** Attempts in total, the first one included. */
  max_attempts: number;
}

/** Delay before retry n (n ≥ 1) = base_s × n. */
export interface LinearRetryPolicy extends RetryPolicyCommon {
  backoff: "linear";
  base_s: number;
  /** Attempts in total, the first one included. */
  max_attempts: number;
}

export type RetryPolicy = ScheduleRetryPolicy | ExponentialRetryPolicy | LinearRetryPolicy;

export const DEFAULT_JITTER = 0.2;
export const DEFAULT_EXPONENTIAL_FACTOR = 2;
/** One day: without a cap, base 30 s × 2^n passes a year after 20 retries. */
export const DEFAULT_BACKOFF_MAX_DELAY_S = 86_400;

/**
 * The first attempt is immediate; then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h before
 * retries 1–7 (8 attempts, ~27.6 h nominal in total), each ±20 %.
 */
export const DEFAULT_RETRY_POLICY: ScheduleRetryPolicy = Object.freeze({
  schedule_s: Object.freeze([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]),
});

function isSchedule(policy: RetryPolicy): policy is ScheduleRetryPolicy {
  return "schedule_s" in policy;
}

function assertAttemptsMade(attemptsMade: number): void {
  // A caller bug (the worker's counter), never user input: hence not a HeraldError code.
  if (!Number.isSafeInteger(attemptsMade) || attemptsMade < 0) {
    throw new RangeError(`attemptsMade must be a non-negative integer, got ${attemptsMade}`);
  }
}

/** Total attempts a delivery gets under `policy`, the first one included. */
export function maxAttempts(policy: RetryPolicy): number {
  return isSchedule(policy) ? 1 + policy.schedule_s.length : policy.max_attempts;
}

function maxDelayS(policy: RetryPolicy): number {
  return (
    policy.max_delay_s ??
    (isSchedule(policy) ? Number.POSITIVE_INFINITY : DEFAULT_BACKOFF_MAX_DELAY_S)
  );
}

function rawDelayS(policy: RetryPolicy, retry: number): number {
  if (isSchedule(policy)) return policy.schedule_s[retry - 1]!;
  if (policy.backoff === "linear") return policy.base_s * retry;
  return policy.base_s * (policy.factor ?? DEFAULT_EXPONENTIAL_FACTOR) ** (retry - 1);
}

/**
 * The delay in whole milliseconds before the next attempt, without jitter but capped by
 * max_delay_s, after `attemptsMade` attempts; 0 when none was made yet (the first attempt is
 * immediate); null when attempts are exhausted (dead-letter).
 */
export function nominalRetryDelayMs(policy: RetryPolicy, attemptsMade: number): number | null {
  assertAttemptsMade(attemptsMade);
  if (attemptsMade >= maxAttempts(policy)) return null;
  if (attemptsMade === 0) return 0;
  // Flooring the cap keeps the whole-millisecond delay at or below it.
  return Math.min(
    Math.round(rawDelayS(policy, attemptsMade) * 1000),
    Math.floor(maxDelayS(policy) * 1000),
  );
}

/**
 * Milliseconds to wait before the next attempt, given how many attempts were already made, or
 * null when none is left (dead-letter). The nominal delay (nominalRetryDelayMs) is spread
 * uniformly over ±jitter so retries of one outage do not arrive in lockstep, then capped by
 * max_delay_s again, so delays at the cap spread below it only. `random` returns [0, 1).
 */
export function nextRetryDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  random: () => number = Math.random,
): number | null {
  const nominal = nominalRetryDelayMs(policy, attemptsMade);
  if (nominal === null || nominal === 0) return nominal;
  const jitter = policy.jitter ?? DEFAULT_JITTER;
  const r = Math.min(Math.max(random(), 0), 1) || 0; // `|| 0` turns a NaN from a bad source into 0
  const jittered = Math.round(nominal * (1 + jitter * (2 * r - 1)));
  // Rounding must not step outside the documented band [nominal(1 − j), min(nominal(1 + j), cap)].
  const low = Math.ceil(nominal * (1 - jitter));
  const high = Math.floor(Math.min(nominal * (1 + jitter), maxDelayS(policy) * 1000));
  return Math.min(Math.max(jittered, low), high);
}
