// What a gRPC status means for the delivery: OK is a success, UNAVAILABLE, RESOURCE_EXHAUSTED
// and DEADLINE_EXCEEDED are retried, any other status is the listener's final refusal. A pure
// function, so the mapping is one table that the docs show and the tests check.

import { status as GrpcStatus } from "@grpc/grpc-js";
import type { ResponseClassification } from "@heraldjs/core/internal/delivery/responseRules.js";

/** Most characters of a status's details kept in the attempt log. */
const MAX_DETAILS_CHARS = 512;

/** `UNAVAILABLE` for 14; `STATUS_<n>` for a code gRPC does not define. */
export function grpcStatusName(code: number): string {
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code];
  return typeof name === "string" ? name : `STATUS_${code}`;
}

/** How one attempt ended, as the attempt log and the worker see it. */
export interface GrpcOutcome {
  classification: ResponseClassification;
  /** `timeout: …` or `grpc: <STATUS_NAME> <details>`; null for OK. */
  error: string | null;
}

function text(details: string): string {
  const oneLine = details.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAILS_CHARS ? `${oneLine.slice(0, MAX_DETAILS_CHARS)}…` : oneLine;
}

/**
 * The outcome of a call that ended with `code`:
 *
 * | status | outcome |
 * |---|---|
 * | OK | success |
 * | UNAVAILABLE | retry `unavailable` |
 * | DEADLINE_EXCEEDED | retry `timeout` (error `timeout: …`) |
 * | RESOURCE_EXHAUSTED | retry `rate_limited` |
 * | CANCELLED | retry `network_error`: the call was cut on the way (no listener says it) |
 * | any other | reject `rejected`: dead-lettered at once |
 */
export function classifyGrpcStatus(code: number, details: string, timeoutMs: number): GrpcOutcome {
  const described = `grpc: ${grpcStatusName(code)}${details === "" ? "" : ` ${text(details)}`}`;
  switch (code) {
    case GrpcStatus.OK:
      return { classification: { outcome: "success" }, error: null };
    case GrpcStatus.UNAVAILABLE:
      return { classification: { outcome: "retry", reason: "unavailable" }, error: described };
    case GrpcStatus.DEADLINE_EXCEEDED:
      return {
        classification: { outcome: "retry", reason: "timeout" },
        error: `timeout: no response within ${timeoutMs} ms`,
      };
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return { classification: { outcome: "retry", reason: "rate_limited" }, error: described };
    case GrpcStatus.CANCELLED:
      return { classification: { outcome: "retry", reason: "network_error" }, error: described };
    default:
      return { classification: { outcome: "reject", reason: "rejected" }, error: described };
  }
}
