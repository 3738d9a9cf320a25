// The Fastify application: ingestion, the management API under /v1, operations routes, one error
// shape for everything, request ids, metrics per route, and the OpenAPI document built from the
// route schemas.
import swagger from "@fastify/swagger";
import { newId } from "@heraldjs/core/internal/core/ids.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import {
  type StoreDeadlines,
  storeDeadlines,
} from "@heraldjs/core/internal/store/storeDeadlines.js";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Bindings, ChildLoggerOptions, Logger } from "pino";
import { CONFIG_DEFAULTS } from "../config/fileSchema.js";
import { STREAM_DEFAULTS, type StreamSettings } from "../config/streamSettings.js";
import { bearerAuth } from "./auth.js";
import { installBodyBudget } from "./bodyBudget.js";
import { documentedResponses } from "./documentedStatuses.js";
import { handleError, sendError } from "./httpErrors.js";
import type { Ingestor } from "./ingest/ingestor.js";
import { registerInputRules } from "./inputRules.js";
import type { ServiceMetrics } from "./metrics.js";
import { handleClientError, installProtocolChecks } from "./protocolErrors.js";
import type { ReadinessCheck } from "./readiness.js";
import { addRequestDeadline } from "./requestDeadline.js";
import { zodValidatorCompiler } from "./routeSchema.js";
import { ingestRoutes } from "./routes/ingest.js";
import { type ManagementDeps, managementRoutes } from "./routes/management.js";
import { operationsRoutes } from "./routes/operations.js";
import { createStreamHub } from "./streams/streamHub.js";
import { streamMetrics } from "./streams/streamMetrics.js";
import { streamRoutes } from "./streams/streamRoutes.js";

interface AppOptions extends ManagementDeps {
  store: DeliveryStore;
  ingestor: Ingestor;
  metrics: ServiceMetrics;
  logger: Logger;
  version: string;
  /** null: the management API is open (the server then listens on loopback only). */
  apiKey: string | null;
  /** Largest webhook or API body. Default 2 MiB. */
  bodyLimitBytes?: number;
  /** Most body bytes all requests may hold at once. Default 32 MiB (at least bodyLimitBytes). */
  maxInFlightBodyBytes?: number;
  /** Most time one request body may take to arrive. Default 10 s. */
  bodyTimeoutMs?: number;
  isStopping?: () => boolean;
  /** The request deadline's limits; default those of the default deadline. */
  requestDeadline?: StoreDeadlines;
  /**
   * What /ready checks besides the database, by name (`database` is taken): e.g.
   * `{ nats: { check: () => connection.flush() } }`. Each runs on every /ready within its time
   * limit; a failed required one (the default) makes /ready answer 503.
   */
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /** The live streams' settings (/v1/stream); default STREAM_DEFAULTS. */
  streams?: Partial<StreamSettings>;
}

export const DEFAULT_BODY_LIMIT = CONFIG_DEFAULTS.bodyLimitBytes;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids the server makes: `req_<ULID made once per app>.<sequence in base 36>`. Unique
 * per process and ordered within it, without drawing randomness for every request (a fresh ULID
 * per request was ≈ 5 % of the ingestion path's CPU, bench/notes-ingest.md).
 */
function requestIds(): () => string {
  const base = newId("req");
  let sequence = 0;
  return () => `${base}.${(sequence++).toString(36)}`;
}

/**
 * Each request's logger, made only when the request logs something at an enabled level: pino
 * builds a child per request otherwise (≈ 3 % of the ingestion path's CPU), and a webhook
 * accepted at the default level logs nothing. One small object per request, methods shared.
 */
class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #enabled(level: string): boolean {
    // A route's own logLevel applies to its child: ask the child then.
    const target = (
      this.#options.level === undefined ? (this.#child ?? this.#parent) : this.#real()
    ) as Partial<Pick<Logger, "isLevelEnabled">>;
    return typeof target.isLevelEnabled !== "function" || target.isLevelEnabled(level);
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(value: string) {
    this.#real().level = value;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  silent(): void {}

  fatal(...args: unknown[]): void {
    if (this.#enabled("fatal")) (this.#real().fatal as (...a: unknown[]) => void)(...args);
  }

  error(...args: unknown[]): void {
    if (this.#enabled("error")) (this.#real().error as (...a: unknown[]) => void)(...args);
  }

  warn(...args: unknown[]): void {
    if (this.#enabled("warn")) (this.#real().warn as (...a: unknown[]) => void)(...args);
  }

  info(...args: unknown[]): void {
    if (this.#enabled("info")) (this.#real().info as (...a: unknown[]) => void)(...args);
  }

  debug(...args: unknown[]): void {
    if (this.#enabled("debug")) (this.#real().debug as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    if (this.#enabled("trace")) (this.#real().trace as (...a: unknown[]) => void)(...args);
  }
}

function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const isStopping = options.isStopping ?? (() => false);
  const nextRequestId = requestIds();
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    // A caller's X-Request-Id is kept when it is a plain token (never anything that could forge
    // log lines); otherwise the server makes one.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    // Requests are logged once, on response (below), at debug unless they failed.
    logController: new LogController({
      requestIdLogLabel: "requestId",
      disableRequestLogging: true,
    }),
    childLoggerFactory: lazyChildLogger,
    // Event-type names (up to 255 characters) are path parameters; Fastify's default is 100.
    routerOptions: { maxParamLength: 1024 },
    // Router errors (a malformed %-escape, an over-long path parameter) in the same error shape.
    frameworkErrors: handleError,
    // Malformed HTTP and header overflows answer in the error shape (protocolErrors.ts).
    clientErrorHandler: handleClientError,
    // A missing Host is answered by installProtocolChecks, in the error shape.
    http: { requireHostHeader: false },
    return503OnClosing: true,
    forceCloseConnections: "idle",
    connectionTimeout: 60_000,
    requestTimeout: 60_000,
  });
  installProtocolChecks(app);
  installBodyBudget(app, {
    bodyLimitBytes,
    maxInFlightBytes: Math.max(
      options.maxInFlightBodyBytes ?? CONFIG_DEFAULTS.maxInFlightBodyBytes,
      bodyLimitBytes,
    ),
    bodyTimeoutMs: options.bodyTimeoutMs ?? CONFIG_DEFAULTS.bodyTimeoutMs,
  });
  // Every route can refuse a request (the input rules, the API key, the body limits) and answer
  // 503 (the request deadline, the body budget, shutdown): the document lists each status.
  app.addHook("onRoute", (route) => {
    if (route.schema === undefined || route.schema.hide === true) return;
    route.schema = { ...route.schema, response: documentedResponses(route.method, route.schema) };
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  // Responses are plain JSON: their schemas document the API and never drop fields.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(handleError);
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, "route.not_found", `No route ${request.method} ${request.url.split("?")[0]}`);
  app.setNotFoundHandler(notFound);
  // An unknown route is answered before its body is read (the 404 handler would read it first).
  app.addHook("onRequest", (request, reply, done) => {
    if (request.is404) {
      void notFound(request, reply);
      return;
    }
    done();
  });
  registerInputRules(app);
  // Callback-style hooks: an async hook costs a promise per request.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    options.metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    const level = reply.statusCode >= 500 ? "warn" : "debug";
    request.log[level](
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
    done();
  });

  addRequestDeadline(app, options.requestDeadline ?? storeDeadlines());

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Herald",
        version: options.version,
        description:
          "Events in, webhooks out: receive provider webhooks at /webhooks/:source and manage event types, endpoints, sources, messages and deliveries under /v1.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          streamToken: {
            type: "apiKey",
            in: "query",
            name: "token",
            description:
              "A stream token from POST /v1/stream-tokens (also taken as Authorization: Bearer)",
          },
        },
      },
      tags: [
        { name: "ingestion", description: "Inbound webhooks" },
        { name: "management", description: "The /v1 management API (Bearer API key)" },
        { name: "operations", description: "Health, readiness, metrics" },
        {
          name: "streams",
          description: "Live events for browsers (a stream token, not the API key)",
        },
      ],
    },
  });

  await app.register(operationsRoutes, {
    store: options.store,
    metrics: options.metrics,
    version: options.version,
    isStopping,
    ...(options.readinessChecks === undefined ? {} : { readinessChecks: options.readinessChecks }),
  });
  await app.register(ingestRoutes, {
    ingestor: options.ingestor,
    metrics: options.metrics,
    bodyLimitBytes,
  });
  const streamSettings = { ...STREAM_DEFAULTS, ...options.streams };
  const streamCounts = streamMetrics(options.metrics.registry);
  const hub = createStreamHub({
    store: options.store,
    pollMs: streamSettings.pollMs,
    logger: options.logger,
    onEnded: streamCounts.ended,
  });
  streamCounts.track(() => hub.open);
  await streamRoutes(app, {
    store: options.store,
    hub,
    settings: streamSettings,
    clock: options.clock,
    logger: options.logger,
  });
  await app.register(
    async (v1) => {
      if (options.apiKey !== null) v1.addHook("onRequest", bearerAuth(options.apiKey));
      await managementRoutes(v1, { ...options, streamHub: hub });
    },
    { prefix: "/v1" },
  );
  return app;
}
