// Retry policies on the wire (`retry` of an endpoint and of herald.yaml). RetryPolicy is already
// snake_case, so the wire shape is the policy itself: the schema states the same bounds as
// normalizeRetryPolicy, which the converter runs to keep one source of truth.

import {
  MAX_EXPONENTIAL_FACTOR,
  MAX_RETRY_ATTEMPTS,
  MAX_RETRY_DELAY_S,
  normalizeRetryPolicy,
} from "@heraldjs/core/internal/core/normalizeRetryPolicy.js";
import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { z } from "zod";
import { invalidField } from "./common.js";

const delayS = z.number().min(0).max(MAX_RETRY_DELAY_S);
const common = {
  /** Jitter fraction; default 0.2. */
  jitter: z.number().min(0).max(1).optional(),
  /** Cap on any delay in seconds. */
  max_delay_s: z.number().min(0.001).max(MAX_RETRY_DELAY_S).optional(),
};
const backoffCommon = {
  base_s: z.number().gt(0).max(MAX_RETRY_DELAY_S),
  max_attempts: z.int().min(1).max(MAX_RETRY_ATTEMPTS),
  ...common,
};

export const wireScheduleRetrySchema = z.strictObject({
  schedule_s: z.array(delayS).max(MAX_RETRY_ATTEMPTS - 1),
  ...common,
});

export const wireExponentialRetrySchema = z.strictObject({
  backoff: z.literal("exponential"),
  factor: z.number().min(1).max(MAX_EXPONENTIAL_FACTOR).optional(),
  ...backoffCommon,
});

export const wireLinearRetrySchema = z.strictObject({
  backoff: z.literal("linear"),
  ...backoffCommon,
});

/** `{schedule_s: [5, 300]}` or `{backoff: "exponential" | "linear", base_s, max_attempts, …}`. */
export const wireRetrySchema = z.union(
  [
    wireScheduleRetrySchema,
    z.discriminatedUnion("backoff", [wireExponentialRetrySchema, wireLinearRetrySchema]),
  ],
  {
    error:
      'must be {schedule_s: [seconds, …]} or {backoff: "exponential" | "linear", base_s, max_attempts}',
  },
);

export type WireRetry = z.input<typeof wireRetrySchema>;

/**
 * The policy of a wire `retry` (validated by normalizeRetryPolicy: same rules as the store).
 * Throws `request.invalid` with `details.field` = `<field>.<key>`, e.g. `retry.schedule_s[2]`.
 */
export function toRetryPolicy(wire: WireRetry, field = "retry"): RetryPolicy {
  try {
    return normalizeRetryPolicy(wire);
  } catch (error) {
    if (!isHeraldError(error, "retry.invalid_policy")) throw error;
    const key = typeof error.details?.key === "string" ? error.details.key : "";
    let problem = error.message.replace(/^Invalid retry policy: /, "");
    if (key !== "" && problem.startsWith(`${key} `)) problem = problem.slice(key.length + 1);
    throw invalidField(key === "" ? field : `${field}.${key}`, problem, "request.invalid", error);
  }
}

/** The wire form of a policy (a plain copy: the fields are the same). */
export function retryToWire(policy: RetryPolicy): WireRetry {
  const common = {
    ...(policy.jitter === undefined ? {} : { jitter: policy.jitter }),
    ...(policy.max_delay_s === undefined ? {} : { max_delay_s: policy.max_delay_s }),
  };
  if ("schedule_s" in policy) return { schedule_s: [...policy.schedule_s], ...common };
  if (policy.backoff === "linear") {
    return {
      backoff: "linear",
      base_s: policy.base_s,
      max_attempts: policy.max_attempts,
      ...common,
    };
  }
  return {
    backoff: "exponential",
    base_s: policy.base_s,
    ...(policy.factor === undefined ? {} : { factor: policy.factor }),
    max_attempts: policy.max_attempts,
    ...common,
  };
}
