// `POST /v1/endpoints`, `PATCH /v1/endpoints/:id` and the `endpoints:` of herald.yaml. On the
// wire the destination is `url` whatever the transport; the store calls it `target`.

import { parseEventBridgeTarget } from "@heraldjs/aws/internal/delivery/transports/eventbridgeTarget.js";
import { parseSqsTarget } from "@heraldjs/aws/internal/delivery/transports/sqsTarget.js";
import {
  DEFAULT_ENDPOINT_SCHEME,
  DEFAULT_ENDPOINT_TRANSPORT,
  ENDPOINT_TRANSPORTS,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  EndpointInput,
  EndpointPatch,
  EndpointTransport,
  TimeInput,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  type FilterJson,
  parseEndpointFilter,
} from "@heraldjs/core/internal/model/endpointFilter.js";
import { checkGrpcTarget } from "@heraldjs/grpc/internal/delivery/transports/grpcTarget.js";
import { checkNatsSubjectTemplate } from "@heraldjs/nats/internal/delivery/transports/natsSubjectTemplate.js";
import { parseRabbitMqTarget } from "@heraldjs/rabbitmq/internal/delivery/transports/rabbitmqTarget.js";
import { parseRedisStreamsTarget } from "@heraldjs/redis/internal/delivery/transports/redisStreamsTarget.js";
import {
  descriptionSchema,
  headerMapSchema,
  invalidField,
  keySchema,
  nameSchema,
  schemeNameSchema,
  secretSchema,
  typePatternSchema,
} from "@heraldjs/spec/internal/wire/common.js";
import { toRetryPolicy, wireRetrySchema } from "@heraldjs/spec/internal/wire/retry.js";
import {
  toSchemeOptions,
  wireHmacOptionsSchema,
} from "@heraldjs/spec/internal/wire/schemeOptions.js";
import type { HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import type { HmacSchemeSpec, SchemeSpec } from "@heraldjs/webhooks/internal/signing/registry.js";
import { type SecretUse, secretProblem } from "@heraldjs/webhooks/internal/signing/secretCheck.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import { checkWebSocketTarget } from "@heraldjs/websocket/internal/delivery/transports/websocketTarget.js";
import { z } from "zod";

export const MAX_ENDPOINT_TIMEOUT_MS = 300_000;

const transportSchema = z.enum(ENDPOINT_TRANSPORTS);

/** The fields an update may change (no id, no secret: rotation has its own route). */
const patchFields = {
  /**
   * http: an absolute http(s) URL; nats: a subject; nats-core: a subject template; function: a
   * registered function name; sqs: a queue URL; eventbridge: eventbridge://<bus>?source=&region=.
   */
  url: z.string().min(1).max(2048),
  transport: transportSchema,
  /** Event-type patterns, e.g. `order.*`. */
  event_types: z.array(typePatternSchema).min(1).max(256),
  /** A condition on payload and headers (docs/filters.md); null = every message. */
  filter: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      "A filter on the message's payload and headers (docs/filters.md): a message of a matching type that the filter refuses gets no delivery and is recorded as filtered; null = every message",
    ),
  tenant: nameSchema,
  description: descriptionSchema,
  scheme: schemeNameSchema,
  /** Only with scheme `hmac`. */
  scheme_options: wireHmacOptionsSchema.nullable(),
  headers: headerMapSchema,
  timeout_ms: z.int().min(1).max(MAX_ENDPOINT_TIMEOUT_MS),
  /** null = the global default policy. */
  retry: wireRetrySchema.nullable(),
  rate_limit_per_s: z.number().gt(0).max(1_000_000).nullable(),
  max_in_flight: z.int().min(1).max(100_000).nullable(),
  ordered: z.boolean(),
  enabled: z.boolean(),
};

export const wireEndpointCreateSchema = z.strictObject({
  /** Default `ep_<ULID>`. */
  id: keySchema.optional(),
  url: patchFields.url,
  transport: patchFields.transport.default(DEFAULT_ENDPOINT_TRANSPORT),
  event_types: patchFields.event_types,
  filter: patchFields.filter.optional(),
  tenant: patchFields.tenant.optional(),
  description: patchFields.description.optional(),
  scheme: patchFields.scheme.default(DEFAULT_ENDPOINT_SCHEME),
  scheme_options: patchFields.scheme_options.optional(),
  /** Generated for the scheme when absent. */
  secret: secretSchema.optional(),
  headers: patchFields.headers.optional(),
  timeout_ms: patchFields.timeout_ms.optional(),
  retry: patchFields.retry.optional(),
  rate_limit_per_s: patchFields.rate_limit_per_s.optional(),
  max_in_flight: patchFields.max_in_flight.optional(),
  ordered: patchFields.ordered.optional(),
  enabled: patchFields.enabled.optional(),
});

export const wireEndpointPatchSchema = z.strictObject(patchFields).partial();

export type WireEndpointCreateInput = z.input<typeof wireEndpointCreateSchema>;
export type WireEndpointCreate = z.output<typeof wireEndpointCreateSchema>;
export type WireEndpointPatch = z.input<typeof wireEndpointPatchSchema>;

const NATS_SUBJECT = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/;

/**
 * An SQS queue URL's form, on whatever origin it names: which origin is allowed (AWS's SQS hosts,
 * or the configured `aws.endpoint`'s) is the service's check (config/transportCheck.ts), as this
 * one runs without the config (the CLI's `endpoints add` too).
 */
function checkSqsTargetForm(url: string): void {
  let origin: string | undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") origin = parsed.origin;
  } catch {
    origin = undefined;
  }
  parseSqsTarget(url, origin === undefined ? {} : { endpoint: origin });
}

/**
 * The target checks of the message-shaped transports (`request.invalid` naming `url`, never
 * echoing a password): URL parsing only, so the service checks an endpoint without loading the
 * transport's client library.
 */
const TARGET_CHECKS: Partial<Record<EndpointTransport, (url: string) => void>> = {
  websocket: checkWebSocketTarget,
  grpc: checkGrpcTarget,
  rabbitmq: (url) => void parseRabbitMqTarget(url),
  "redis-streams": (url) => void parseRedisStreamsTarget(url),
  sqs: checkSqsTargetForm,
  eventbridge: (url) => void parseEventBridgeTarget(url),
  // A subject template: `client.{tenant}.evt`, placeholders {tenant}, {type}, {message_id}.
  "nats-core": checkNatsSubjectTemplate,
};

/** Checks `url` for its transport; throws `request.invalid` naming `url`. */
export function checkEndpointTarget(transport: EndpointTransport, url: string): void {
  if (transport === "http") {
    let parsed: URL | undefined;
    try {
      parsed = /\s/.test(url) ? undefined : new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw invalidField("url", "must be an absolute http(s) URL");
    }
    return;
  }
  if (transport === "nats") {
    if (!NATS_SUBJECT.test(url)) {
      throw invalidField("url", "must be a NATS subject (dot-separated tokens, no wildcards)");
    }
    return;
  }
  const check = TARGET_CHECKS[transport];
  if (check !== undefined) {
    check(url);
    return;
  }
  if (/\s/.test(url)) throw invalidField("url", "must be a function name without white space");
}

export function schemeSpec(scheme: string, options: Record<string, unknown> | null): SchemeSpec {
  return scheme === "hmac"
    ? ({ ...options, name: "hmac" } as HmacSchemeSpec)
    : (scheme as SchemeSpec);
}

/**
 * The one secret rule of endpoints (`use` "sign") and sources ("verify"): a secret the scheme
 * cannot use is refused now, as 400 `request.invalid` naming `field` (or `code`, e.g. the
 * CLI's), not at every delivery or webhook. The scheme's message describes the form expected,
 * never the secret itself.
 */
export function checkSecret(
  spec: SchemeSpec,
  scheme: string,
  secret: string,
  field = "secret",
  use: SecretUse = "sign",
  code: HeraldErrorCode = "request.invalid",
): void {
  const problem = secretProblem(spec, secret, use);
  if (problem !== undefined) {
    throw invalidField(field, `is not a usable ${scheme} secret: ${problem}`, code);
  }
}

/** The filter checked now (400 `filter.invalid` naming its path), as the store takes it. */
function endpointFilter(filter: Record<string, unknown> | null): FilterJson | null {
  return filter === null ? null : parseEndpointFilter(filter).json;
}

function optionalFields(wire: WireEndpointPatch): EndpointPatch {
  const out: EndpointPatch = {};
  if (wire.filter !== undefined) out.filter = endpointFilter(wire.filter);
  if (wire.tenant !== undefined) out.tenant = wire.tenant;
  if (wire.description !== undefined) out.description = wire.description;
  if (wire.headers !== undefined) out.headers = { ...wire.headers };
  if (wire.timeout_ms !== undefined) out.timeoutMs = wire.timeout_ms;
  if (wire.retry !== undefined) out.retry = wire.retry === null ? null : toRetryPolicy(wire.retry);
  if (wire.rate_limit_per_s !== undefined) out.rateLimitPerS = wire.rate_limit_per_s;
  if (wire.max_in_flight !== undefined) out.maxInFlight = wire.max_in_flight;
  if (wire.ordered !== undefined) out.ordered = wire.ordered;
  return out;
}

export interface ToEndpointInputOptions {
  /** Creation time of the secret; default: the store's clock. */
  now?: TimeInput;
}

/**
 * The store input of an endpoint body and its signing secret (the one given, or a new one
 * generated for the scheme). Throws `request.invalid` (`details.field`) for a `url` that does
 * not suit the transport, `scheme_options` with a scheme other than hmac or bad hmac options,
 * a secret the scheme cannot sign with, or a bad retry policy; `filter.invalid` for a filter
 * docs/filters.md refuses (the message starts with its path, `filter.payload.total.$gte: …`).
 */
export function toEndpointInput(
  wire: WireEndpointCreateInput,
  options: ToEndpointInputOptions = {},
): { input: EndpointInput; secret: string } {
  const transport = wire.transport ?? DEFAULT_ENDPOINT_TRANSPORT;
  const scheme = wire.scheme ?? DEFAULT_ENDPOINT_SCHEME;
  checkEndpointTarget(transport, wire.url);
  const schemeOptions = toSchemeOptions(scheme, wire.scheme_options);
  const spec = schemeSpec(scheme, schemeOptions);
  let secret = wire.secret;
  if (secret === undefined) secret = generateSecret(spec);
  else checkSecret(spec, scheme, secret);
  const input: EndpointInput = {
    ...(wire.id === undefined ? {} : { id: wire.id }),
    transport,
    target: wire.url,
    eventTypes: [...wire.event_types],
    scheme,
    schemeOptions,
    secrets: [{ secret, ...(options.now === undefined ? {} : { createdAt: options.now }) }],
    ...optionalFields(wire),
    ...(wire.enabled === undefined ? {} : { enabled: wire.enabled }),
  };
  return { input, secret };
}

/**
 * The store patch of an update body; `enabled` is not part of it (the store toggles it with
 * setEndpointEnabled): read it from the body. Throws `request.invalid` like toEndpointInput;
 * `url` is checked here only when `transport` comes with it (else the store checks it against
 * the endpoint's transport).
 */
export function toEndpointPatch(wire: WireEndpointPatch): EndpointPatch {
  const patch: EndpointPatch = optionalFields(wire);
  if (wire.url !== undefined) {
    if (wire.transport !== undefined) checkEndpointTarget(wire.transport, wire.url);
    patch.target = wire.url;
  }
  if (wire.transport !== undefined) patch.transport = wire.transport;
  if (wire.event_types !== undefined) patch.eventTypes = [...wire.event_types];
  if (wire.scheme !== undefined) patch.scheme = wire.scheme;
  if (wire.scheme_options !== undefined) {
    if (wire.scheme_options !== null && wire.scheme === undefined) {
      throw invalidField("scheme_options", 'needs scheme "hmac" in the same update');
    }
    patch.schemeOptions = toSchemeOptions(wire.scheme ?? "", wire.scheme_options);
  } else if (wire.scheme !== undefined && wire.scheme !== "hmac") {
    patch.schemeOptions = null; // options belong to hmac only
  }
  return patch;
}
