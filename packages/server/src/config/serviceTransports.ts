// The transports of `herald serve` and `herald worker`, built from the loaded config: HTTP always,
// the function transport always (the built-in `simulate` and the functions module's exports),
// WebSocket, gRPC, RabbitMQ and Redis Streams always (each client loaded on its first send), SQS
// and EventBridge always (the AWS SDK loaded on the first send; region and endpoint from `aws:`,
// credentials from the SDK's chain, so nothing is asked of AWS at start),
// NATS when configured — connected at start, its stream created or found, so an unreachable
// server or a subject outside the stream is reported then, not as dead letters later — and with
// it core NATS (`nats-core`, live subscribers), on the same settings, connecting on first send.

import type { DeliveryFunction } from "@heraldjs/core/internal/delivery/transports/function.js";
import { createFunctionTransport } from "@heraldjs/core/internal/delivery/transports/function.js";
import { createHttpTransport } from "@heraldjs/core/internal/delivery/transports/http.js";
import type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
import type { EndpointTransport } from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { AwsSettings } from "./awsSettings.js";
import { serviceFunctions } from "./functionsModule.js";
import { lazyTransport } from "./lazyTransport.js";
import { endpointTransportError, type TransportAvailability } from "./transportCheck.js";
import { checkConfigEndpoints } from "./transportConfig.js";
import type { NatsSettings } from "./transportSettings.js";
import type { HeraldConfig } from "./types.js";

export interface ServiceTransports {
  /** By endpoint transport, for the delivery worker. */
  readonly transports: Partial<Record<EndpointTransport, Transport>>;
  /** What endpoints may name: NATS (with its stream's subjects) and the functions. */
  readonly availability: TransportAvailability;
  /**
   * Throws `transport.unavailable` or `function.unknown` (HTTP 400) for an endpoint this
   * process cannot deliver to (transportCheck.ts).
   */
  checkEndpoint(transport: EndpointTransport, target: string): void;
  /**
   * The transports' connections /ready checks, by name (`nats` when configured): each resolves
   * when the server answered a round trip now.
   */
  readonly pings: Readonly<Record<string, () => Promise<void>>>;
  /** Closes every transport (the NATS connection drains). */
  close(): Promise<void>;
}

export interface ServiceTransportOptions {
  /** The SSRF allowlist of the HTTP transport. */
  ssrfAllow: readonly string[];
  clock?: Clock;
}

/**
 * The WebSocket, gRPC, RabbitMQ and Redis Streams transports: always available, each loaded on
 * its first send (their targets carry the connection, so there is nothing to configure).
 */
function messageTransports(
  common: { ssrfAllow: readonly string[]; clock?: Clock },
  clock: Clock | undefined,
): Partial<Record<EndpointTransport, Transport>> {
  return {
    websocket: lazyTransport(
      "websocket",
      async () =>
        (
          await import("@heraldjs/websocket/internal/delivery/transports/websocket.js")
        ).createWebSocketTransport(common),
      clock,
    ),
    grpc: lazyTransport(
      "grpc",
      async () =>
        (await import("@heraldjs/grpc/internal/delivery/transports/grpc.js")).createGrpcTransport(
          common,
        ),
      clock,
    ),
    rabbitmq: lazyTransport(
      "rabbitmq",
      async () =>
        (
          await import("@heraldjs/rabbitmq/internal/delivery/transports/rabbitmq.js")
        ).createRabbitMqTransport(common),
      clock,
    ),
    "redis-streams": lazyTransport(
      "redis-streams",
      async () =>
        (
          await import("@heraldjs/redis/internal/delivery/transports/redisStreams.js")
        ).createRedisStreamsTransport(common),
      clock,
    ),
  };
}

/** The AWS client options of the `aws:` settings (credentials: the SDK's standard chain). */
function awsClientOptions(aws: AwsSettings | undefined): { region?: string; endpoint?: string } {
  return {
    ...(aws?.region == null ? {} : { region: aws.region }),
    ...(aws?.endpoint == null ? {} : { endpoint: aws.endpoint }),
  };
}

/**
 * The SQS and EventBridge transports: always available, the AWS SDK loaded on the first send.
 * A queue URL must be on AWS or on `aws.endpoint`'s origin (checkEndpoint refuses others).
 */
function awsTransports(
  aws: AwsSettings | undefined,
  clock: Clock | undefined,
): Partial<Record<EndpointTransport, Transport>> {
  const options = { aws: awsClientOptions(aws), ...(clock === undefined ? {} : { clock }) };
  return {
    sqs: lazyTransport(
      "sqs",
      async () =>
        (await import("@heraldjs/aws/internal/delivery/transports/sqs.js")).createSqsTransport(
          options,
        ),
      clock,
    ),
    eventbridge: lazyTransport(
      "eventbridge",
      async () =>
        (
          await import("@heraldjs/aws/internal/delivery/transports/eventbridge.js")
        ).createEventBridgeTransport(options),
      clock,
    ),
  };
}

type NatsTransportModule = typeof import("@heraldjs/nats/internal/delivery/transports/nats.js");

/** Where the `nats` and `nats-core` transports connect, from the `nats:` settings. */
function natsConnection(settings: NatsSettings) {
  return {
    servers: settings.servers,
    ...(settings.credsFile === null ? {} : { credsFile: settings.credsFile }),
    connectOptions: {
      name: "herald",
      ...(settings.user === null ? {} : { user: settings.user }),
      ...(settings.password === null ? {} : { pass: settings.password }),
      ...(settings.token === null ? {} : { token: settings.token }),
    },
  };
}

/**
 * The `nats-core` transport on the same NATS settings, with a connection of its own opened on its
 * first send (a core publish needs no stream, so there is nothing to check at start).
 */
function natsCoreTransport(settings: NatsSettings, clock: Clock | undefined): Transport {
  return lazyTransport(
    "nats-core",
    async () =>
      (
        await import("@heraldjs/nats/internal/delivery/transports/natsCore.js")
      ).createNatsCoreTransport({
        nats: natsConnection(settings),
        ...(clock === undefined ? {} : { clock }),
      }),
    clock,
  );
}

/** The NATS transport, connected and its stream ensured; rejects when that fails. */
async function connectNats(settings: NatsSettings, clock: Clock | undefined) {
  // Loaded only when NATS is configured: a service without it never loads the NATS client.
  const { createNatsTransport }: NatsTransportModule = await import(
    "@heraldjs/nats/internal/delivery/transports/nats.js"
  );
  const transport = createNatsTransport({
    nats: { ...natsConnection(settings), stream: settings.stream, subjects: settings.subjects },
    ...(clock === undefined ? {} : { clock }),
  });
  try {
    const target = await transport.ready();
    return { transport, stream: target.stream ?? settings.stream, subjects: target.subjects };
  } catch (error) {
    await transport.close().catch(() => {});
    throw error;
  }
}

/**
 * Builds the transports of `config` (as loadConfig returned it). Rejects with the NATS
 * connection's or stream's error (`bus.unavailable`, `config.invalid` for an unreadable
 * credentials file), or `config.invalid` naming the file when an endpoint of the file publishes
 * to a subject the stream does not capture.
 */
export async function buildServiceTransports(
  config: Pick<HeraldConfig, "file" | "nats" | "functions" | "endpoints"> & {
    /** Where the SQS and EventBridge transports go; absent: the SDK's defaults. */
    aws?: AwsSettings;
  },
  options: ServiceTransportOptions,
): Promise<ServiceTransports> {
  const { clock } = options;
  const functions: ReadonlyMap<string, DeliveryFunction> = serviceFunctions(
    config.functions?.functions ?? null,
  );
  const common = { ssrfAllow: options.ssrfAllow, ...(clock ? { clock } : {}) };
  const transports: Partial<Record<EndpointTransport, Transport>> = {
    http: createHttpTransport(common),
    function: createFunctionTransport({ functions, ...(clock ? { clock } : {}) }),
    ...messageTransports(common, clock),
    ...awsTransports(config.aws, clock),
  };
  let availability: TransportAvailability = {
    nats: null,
    functions: new Set(functions.keys()),
    awsEndpoint: config.aws?.endpoint ?? null,
  };
  const pings: Record<string, () => Promise<void>> = {};
  if (config.nats !== null) {
    const nats = await connectNats(config.nats, clock);
    transports.nats = nats.transport;
    transports["nats-core"] = natsCoreTransport(config.nats, clock);
    pings.nats = () => nats.transport.ping();
    availability = { ...availability, nats: { stream: nats.stream, subjects: nats.subjects } };
  }
  const close = async () => {
    await Promise.all(Object.values(transports).map((t) => t.close().catch(() => {})));
  };
  try {
    checkConfigEndpoints(config.endpoints, availability, {
      file: config.file ?? undefined,
      position: () => undefined,
    });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    transports,
    availability,
    pings,
    checkEndpoint(transport, target) {
      const error = endpointTransportError(availability, transport, target);
      if (error !== undefined) throw error;
    },
    close,
  };
}
