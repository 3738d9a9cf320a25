// Whether this process can deliver to an endpoint: its transport is configured (NATS for `nats`
// and `nats-core`), its function exists, its JetStream subject lands in the stream, its SQS queue
// URL is on AWS or on the configured `aws.endpoint` override. One rule for
// POST/PATCH /v1/endpoints (400) and the endpoints of herald.yaml (config.invalid at start),
// instead of a dead letter later.

import { parseSqsTarget } from "@heraldjs/aws/internal/delivery/transports/sqsTarget.js";
import type { EndpointTransport } from "@heraldjs/core/internal/model/deliveryRecords.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** What a process can deliver to besides HTTP. */
export interface TransportAvailability {
  /** null: NATS is not configured. `subjects` null: the stream's subjects are not known yet. */
  nats: { stream: string; subjects: readonly string[] | null } | null;
  /** The names `transport: function` endpoints may use. */
  functions: ReadonlySet<string>;
  /**
   * The `aws.endpoint` override: `sqs` queue URLs must be on its origin. null or absent: none,
   * so they must be AWS's own SQS URLs.
   */
  awsEndpoint?: string | null;
}

/** True when the NATS subject pattern (`*` one token, `>` the rest) captures `subject`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const got = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === ">") return got.length > i;
    if (i >= got.length || (token !== "*" && token !== got[i])) return false;
  }
  return want.length === got.length;
}

const MAX_NAMES_SHOWN = 20;

function listed(names: Iterable<string>): string {
  const all = [...names].sort();
  const shown = all.slice(0, MAX_NAMES_SHOWN).map((name) => JSON.stringify(name));
  if (all.length > MAX_NAMES_SHOWN) shown.push(`… (${all.length - MAX_NAMES_SHOWN} more)`);
  return shown.join(", ");
}

/**
 * The error refusing an endpoint this process cannot deliver to, or undefined when it can:
 * `transport.unavailable` (no `nats:` configured, or a subject its stream does not capture),
 * `function.unknown` (no such function) or `request.invalid` (an SQS queue URL on an origin the
 * transport does not send to: another than `aws.endpoint`'s, or without one, not AWS's). `details.field` is `field` (the endpoint's `url`, or
 * `transport` when NATS is missing).
 */
export function endpointTransportError(
  available: TransportAvailability,
  transport: EndpointTransport,
  target: string,
  field = "url",
): HeraldError | undefined {
  if (transport === "nats" || transport === "nats-core") {
    const { nats } = available;
    if (nats === null) {
      return new HeraldError(
        "transport.unavailable",
        "transport: this Herald has no NATS configured (a nats: block in herald.yaml, or HERALD_NATS_URL), so it cannot deliver to a NATS subject",
        { details: { field: "transport", transport } },
      );
    }
    // Core NATS publishes to live subscribers: no stream needs to capture the subject.
    if (transport === "nats-core") return undefined;
    if (nats.subjects !== null && !nats.subjects.some((s) => subjectMatches(s, target))) {
      return new HeraldError(
        "transport.unavailable",
        `${field}: the NATS subject ${JSON.stringify(target)} is not captured by the stream ${nats.stream} (its subjects: ${listed(nats.subjects)})`,
        { details: { field, transport, stream: nats.stream } },
      );
    }
    return undefined;
  }
  if (transport === "sqs") {
    const endpoint = available.awsEndpoint ?? null;
    try {
      parseSqsTarget(target, endpoint === null ? {} : { endpoint });
    } catch (error) {
      if (!isHeraldError(error, "request.invalid")) throw error;
      const problem = error.message.replace(/^url: /, "");
      return new HeraldError("request.invalid", `${field}: ${problem}`, {
        details: { field, transport },
        cause: error,
      });
    }
    return undefined;
  }
  if (transport === "function" && !available.functions.has(target)) {
    return new HeraldError(
      "function.unknown",
      `${field}: no function ${JSON.stringify(target)} in this Herald (functions: ${listed(available.functions)})`,
      { details: { field, transport } },
    );
  }
  return undefined;
}
