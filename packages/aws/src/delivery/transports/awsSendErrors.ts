// What an AWS SDK call of a delivery attempt threw, as the attempt log's error and the worker's
// retry class: a service error (AWS answered) is `<service>: <ErrorName>: <message>`, a network
// failure is `network: …` like every transport's, anything else (no credentials, no region) is
// `<service>: <message>`. The SDK never puts a secret key in its errors.
import type { RetryReason } from "@heraldjs/core/internal/delivery/responseRules.js";
import { describeSendError } from "@heraldjs/core/internal/delivery/transports/sendErrors.js";

export interface AwsSendFailure {
  error: string;
  /** The error's name when AWS answered (QueueDoesNotExist, ThrottlingException…). */
  serviceError: string | undefined;
  reason: Extract<RetryReason, "rate_limited" | "unavailable" | "http_error" | "network_error">;
}

const THROTTLING: ReadonlySet<string> = new Set([
  "RequestThrottled",
  "Throttling",
  "ThrottlingException",
  "KmsThrottled",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);

interface ServiceErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function hasSyscallCode(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if (typeof (current as { code?: unknown }).code === "string") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Describes what one SDK call of `service` ("sqs", "eventbridge") threw. */
export function describeAwsError(
  service: string,
  error: unknown,
  timeoutMs: number,
): AwsSendFailure {
  const shape = (typeof error === "object" && error !== null ? error : {}) as ServiceErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  if (shape.$fault === "client" || shape.$fault === "server") {
    const name = typeof shape.name === "string" && shape.name !== "" ? shape.name : "Error";
    const message = typeof shape.message === "string" ? shape.message : "";
    const reason =
      THROTTLING.has(name) || status === 429
        ? "rate_limited"
        : shape.$fault === "server" || (typeof status === "number" && status >= 500)
          ? "unavailable"
          : "http_error";
    return {
      error: `${service}: ${name}${message === "" ? "" : `: ${message}`}`,
      serviceError: name,
      reason,
    };
  }
  if (hasSyscallCode(error)) {
    return {
      error: describeSendError(error, timeoutMs),
      serviceError: undefined,
      reason: "network_error",
    };
  }
  const text = error instanceof Error && error.message !== "" ? error.message : "request failed";
  return { error: `${service}: ${text}`, serviceError: undefined, reason: "network_error" };
}
