// The options of Herald's AWS delivery transports (SQS, EventBridge): how their clients reach
// AWS, the clock of their attempts, and an optional cap on how long one attempt may take.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  type AwsClientConfig,
  type AwsClientOptions,
  awsClientConfig,
} from "../../core/awsClientConfig.js";

export interface AwsTransportOptions {
  /**
   * Region, endpoint override and credentials of the transport's clients. With an `endpoint`
   * override every request goes there (a local emulator, a VPC endpoint), and SQS targets must
   * be queue URLs on that same origin.
   */
  aws?: AwsClientOptions;
  /** `startedAt` of each attempt. */
  clock?: Clock;
  /**
   * The longest one attempt may take, in ms (the SDK's own retries of throttling and 5xx
   * included); an endpoint's lower `timeoutMs` wins. Default: the endpoint's `timeoutMs`.
   */
  timeoutMs?: number;
}

export interface ResolvedAwsTransportOptions {
  config: AwsClientConfig;
  clock: Clock;
  /** The deadline of one attempt: the endpoint's timeout, capped by the option. */
  deadlineMs(endpointTimeoutMs: number): number;
}

/**
 * Checks the options (HeraldError `config.invalid` naming the field, never a secret: see
 * awsClientConfig) and resolves their defaults.
 */
export function resolveAwsTransportOptions(
  options: AwsTransportOptions = {},
): ResolvedAwsTransportOptions {
  const config = awsClientConfig(options.aws);
  const cap = options.timeoutMs;
  if (cap !== undefined && (!Number.isSafeInteger(cap) || cap < 1)) {
    throw new HeraldError("config.invalid", "timeoutMs must be an integer >= 1", {
      details: { field: "timeoutMs" },
    });
  }
  return {
    config,
    clock: options.clock ?? systemClock,
    deadlineMs: (endpointTimeoutMs) =>
      cap === undefined ? endpointTimeoutMs : Math.min(endpointTimeoutMs, cap),
  };
}
