// The Herald service: opens and migrates the database, starts the HTTP server (ingestion,
// management API, operations) and/or the delivery worker, and stops them gracefully: stop
// accepting, finish the requests in progress (each answered only after its commit), let sends
// in progress finish and give back the leases not started, then close the store.
import type { AddressInfo, Socket } from "node:net";
import {
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from "@heraldjs/core/internal/core/retryPolicy.js";
import {
  createDeliveryWorker,
  type DeliveryWorker,
} from "@heraldjs/core/internal/delivery/deliveryWorker.js";
import { createDispatcher } from "@heraldjs/core/internal/delivery/dispatcher.js";
import {
  PRUNE_INTERVAL_MS,
  pruneExpiredKeys,
} from "@heraldjs/core/internal/delivery/pruneExpiredKeys.js";
import { attachWorkerLogger } from "@heraldjs/core/internal/delivery/workerLogging.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { storeDeadlines } from "@heraldjs/core/internal/store/storeDeadlines.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import { CONFIG_DEFAULTS } from "../config/fileSchema.js";
import { buildServiceTransports, type ServiceTransports } from "../config/serviceTransports.js";
import type { StreamSettings } from "../config/streamSettings.js";
import { backendFor } from "../store/backends.js";
import { type DatabaseTarget, describeDatabase } from "../store/openDatabase.js";
import { buildApp, DEFAULT_BODY_LIMIT } from "./app.js";
import { isLoopbackHost } from "./auth.js";
import { closeServer, trackConnections } from "./closeServer.js";
import { createCatalogGate } from "./ingest/closedCatalog.js";
import { createIngestBatches } from "./ingest/ingestBatches.js";
import { createIngestor } from "./ingest/ingestor.js";
import { createSourceCache } from "./ingest/sourceCache.js";
import { createServiceMetrics } from "./metrics.js";
import { storeWithWaitLimit } from "./requestDeadline.js";
import { withWriteReadiness } from "./writeReadiness.js";

/** Added to a request's own bounds (body timeout, request deadline) for the shutdown's grace. */
const SHUTDOWN_SLACK_MS = 1_000;

export interface ServiceSettings {
  database: DatabaseTarget;
  /** Serve HTTP (ingestion + API); false for `herald worker`. */
  http: boolean;
  /** Run the delivery worker in this process. */
  worker: boolean;
  host: string;
  /** 0 picks a free port. */
  port: number;
  apiKey: string | null;
  bodyLimitBytes?: number;
  /** Body bytes all requests may hold at once; default 32 MiB. */
  maxInFlightBodyBytes?: number;
  /** Time one request body may take to arrive; default 10 s. */
  bodyTimeoutMs?: number;
  defaultRetry?: RetryPolicy | null;
  ssrfAllow?: readonly string[];
  workerConcurrency?: number;
  leaseMs?: number;
  pollIntervalMs?: number;
  ingestMaxBatch?: number;
  ingestMaxWaitMs?: number;
  /** Sources with scheme `none` (unsigned) are served; default false (ingest.allow_unsigned). */
  allowUnsigned?: boolean;
  /**
   * Only event types in the catalogue are accepted (400 event_type.unknown at dispatch and
   * ingestion); default false: a message of a new type records it (catalog.closed).
   */
  closedCatalog?: boolean;
  /**
   * A request waiting for the store is answered 503 store.unavailable by then; PostgreSQL's
   * timeouts derive from it (../store/storeDeadlines.ts). Default DEFAULT_REQUEST_DEADLINE_MS.
   */
  requestDeadlineMs?: number;
  logger?: Logger;
  clock?: Clock;
  version: string;
  /** Runs on the store after migrating, before serving (config upserts). */
  seed?: (store: DeliveryStore) => Promise<void>;
  /**
   * What the worker delivers with and endpoints are checked against (buildServiceTransports);
   * closed by stop(). Default: HTTP (with `ssrfAllow`) and the built-in `simulate` function.
   */
  transports?: ServiceTransports;
  /** The live streams' settings (/v1/stream); default STREAM_DEFAULTS. */
  streams?: Partial<StreamSettings>;
}

export interface RunningService {
  /** `http://host:port` when serving HTTP, else null. */
  readonly url: string | null;
  readonly app: FastifyInstance | null;
  readonly store: DeliveryStore;
  readonly worker: DeliveryWorker | null;
  /** Graceful; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Says at start which sources take unsigned webhooks (a warning each), or, without the opt-in,
 * that they will be refused.
 */
async function warnUnsigned(
  store: DeliveryStore,
  allowUnsigned: boolean,
  logger: Logger,
): Promise<void> {
  const unsigned = (await store.listSources()).filter((s) => s.scheme === "none");
  if (allowUnsigned) {
    logger.warn(
      "Unsigned sources are allowed (ingest.allow_unsigned): anyone who can reach /webhooks/<source> of a source with scheme none can post to it; restrict it with allow_from",
    );
  }
  for (const source of unsigned) {
    if (allowUnsigned) {
      logger.warn(
        { source: source.name, allowFrom: source.allowFrom },
        `source ${source.name} accepts unsigned webhooks (scheme none)`,
      );
    } else {
      logger.error(
        { source: source.name },
        `source ${source.name} is unsigned (scheme none) but unsigned sources are not allowed: its webhooks are answered 503 source.misconfigured until ingest.allow_unsigned is set or the source is changed`,
      );
    }
  }
}

export async function startService(settings: ServiceSettings): Promise<RunningService> {
  const clock = settings.clock ?? systemClock;
  const allowUnsigned = settings.allowUnsigned ?? false;
  const logger = settings.logger ?? pino({ level: "info" });
  if (settings.http && settings.apiKey === null && !isLoopbackHost(settings.host)) {
    await settings.transports?.close();
    throw new HeraldError(
      "config.invalid",
      `Refusing to listen on ${settings.host} without an API key: set HERALD_API_KEY (or server.api_key in herald.yaml), or listen on 127.0.0.1`,
    );
  }
  const deadlines = storeDeadlines(settings.requestDeadlineMs);
  const transports =
    settings.transports ??
    (await buildServiceTransports(
      { file: null, nats: null, functions: null, endpoints: [] },
      { ssrfAllow: settings.ssrfAllow ?? [], clock },
    ));
  const backend = backendFor(settings.database.dialect);
  const database = await backend
    .open(settings.database, { role: "serve", pgTimeouts: deadlines.pg })
    .catch(async (error: unknown) => {
      await transports.close();
      throw error;
    });
  let app: FastifyInstance | null = null;
  let worker: DeliveryWorker | null = null;
  let pruneTimer: NodeJS.Timeout | undefined;
  try {
    const report = await backend.migrate(database);
    if (report.applied.length > 0) {
      logger.info({ applied: report.applied, version: report.version }, "database migrated");
    }
    // /ready answers whether a write can succeed: from the outcomes of message writes and a
    // write probe (writeReadiness.ts).
    const readiness = withWriteReadiness(await backend.deliveryStore(database, { clock }), {
      onChange: (failure) => {
        if (failure === null) logger.info("writes to the store succeed again: /ready answers 200");
        else logger.warn({ err: failure }, "writes to the store fail: /ready answers 503");
      },
    });
    const store = readiness.store;
    await settings.seed?.(store);
    // What HTTP requests (and /metrics scrapes) reach: each wait for the store ends in time.
    const httpStore = storeWithWaitLimit(store, deadlines.storeWaitMs);
    const metrics = createServiceMetrics(httpStore);
    const defaultRetry = settings.defaultRetry ?? DEFAULT_RETRY_POLICY;

    if (settings.worker) {
      worker = createDeliveryWorker({
        store,
        clock,
        transports: transports.transports,
        defaultRetry,
        onEvent: (event) => metrics.workerEvent(event),
        ...(settings.workerConcurrency === undefined
          ? {}
          : { concurrency: settings.workerConcurrency }),
        ...(settings.leaseMs === undefined ? {} : { leaseMs: settings.leaseMs }),
        ...(settings.pollIntervalMs === undefined
          ? {}
          : { pollIntervalMs: settings.pollIntervalMs }),
      });
      attachWorkerLogger(worker, logger);
    }

    let stopping = false;
    let url: string | null = null;
    let connections: ReadonlySet<Socket> = new Set();
    const bodyTimeoutMs = settings.bodyTimeoutMs ?? CONFIG_DEFAULTS.bodyTimeoutMs;
    const batches = createIngestBatches({
      store,
      defaultRetry,
      dialect: database.dialect,
      metrics,
      ...(settings.ingestMaxBatch === undefined ? {} : { maxBatch: settings.ingestMaxBatch }),
      ...(settings.ingestMaxWaitMs === undefined ? {} : { maxWaitMs: settings.ingestMaxWaitMs }),
      // A request stops waiting for its commit in time (its message dropped if not yet taken).
      giveUpAfterMs: deadlines.storeWaitMs,
    });
    if (settings.http) {
      await warnUnsigned(store, allowUnsigned, logger);
      const sources = createSourceCache(httpStore, {
        allowUnsigned,
        onUnusable: (source, reason) =>
          logger.error(
            { source, reason },
            "this source cannot verify webhooks: each is answered 503 source.misconfigured until its secrets are fixed (POST /v1/sources)",
          ),
      });
      const closedCatalog = settings.closedCatalog ?? false;
      const catalog = closedCatalog ? createCatalogGate(httpStore) : undefined;
      app = await buildApp({
        store: httpStore,
        metrics,
        logger,
        version: settings.version,
        apiKey: settings.apiKey,
        bodyLimitBytes: settings.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
        ...(settings.maxInFlightBodyBytes === undefined
          ? {}
          : { maxInFlightBodyBytes: settings.maxInFlightBodyBytes }),
        bodyTimeoutMs,
        ingestor: createIngestor({
          sources,
          committer: batches,
          clock,
          ...(catalog === undefined ? {} : { catalog }),
        }),
        dispatcher: createDispatcher({ store: httpStore, clock, defaultRetry, closedCatalog }),
        sources,
        ...(catalog === undefined ? {} : { catalog }),
        clock,
        defaultRetry,
        checkEndpoint: transports.checkEndpoint,
        // /ready checks each configured bus beside the database (a NATS round trip).
        readinessChecks: Object.fromEntries(
          Object.entries(transports.pings).map(([name, ping]) => [name, { check: ping }]),
        ),
        isStopping: () => stopping,
        allowUnsigned,
        requestDeadline: deadlines,
        ...(settings.streams === undefined ? {} : { streams: settings.streams }),
      });
      connections = trackConnections(app.server);
      await app.listen({ host: settings.host, port: settings.port });
      const address = app.server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
      logger.info(
        { url, database: describeDatabase(settings.database), worker: settings.worker },
        `Herald listening on ${url}`,
      );
      if (settings.apiKey === null) {
        logger.warn(
          "No API key: the management API (/v1) is open to this machine only. Set HERALD_API_KEY to require one.",
        );
      }
    }
    worker?.start();
    if (settings.worker) {
      logger.info({ owner: worker?.owner }, "delivery worker started");
    }
    pruneTimer = setInterval(() => {
      pruneExpiredKeys(store).catch((error: unknown) => {
        logger.warn({ err: error }, "pruning expired dedupe keys failed");
      });
      store.pruneStreamTokens().catch((error: unknown) => {
        logger.warn({ err: error }, "pruning expired stream tokens failed");
      });
    }, PRUNE_INTERVAL_MS);
    pruneTimer.unref();

    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(pruneTimer);
        // Closing waits for requests in progress; each of them waits for its commit, and is
        // answered within its body timeout and request deadline (closeServer.ts).
        if (app !== null) {
          await closeServer(app, {
            graceMs: bodyTimeoutMs + deadlines.requestMs + SHUTDOWN_SLACK_MS,
            connections,
            logger,
          });
        }
        await batches.drain();
        await worker?.stop();
        await transports.close();
        await database.close();
        logger.info("Herald stopped");
      })();
      return stopped;
    };
    return { url, app, store, worker, stop };
  } catch (error) {
    clearInterval(pruneTimer);
    await app?.close().catch(() => {});
    await worker?.stop().catch(() => {});
    await transports.close();
    await database.close().catch(() => {});
    throw error;
  }
}

export { DEFAULT_BODY_LIMIT };
