// `herald worker`: the delivery worker alone. The same start-up and shutdown as the worker of
// `herald serve` (src/server/service.ts) — open and migrate the database, apply herald.yaml,
// start the worker, prune expired dedupe keys every minute; on stop let sends in progress
// finish, give back the leases not started, close the database — without importing the HTTP
// side (Fastify, the OpenAPI document, prom-client metrics, the ingest path), which a worker
// process never uses: it costs start-up time and ~13 MB of resident memory for nothing.

import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import { createDeliveryWorker } from "@heraldjs/core/internal/delivery/deliveryWorker.js";
import {
  PRUNE_INTERVAL_MS,
  pruneExpiredKeys,
} from "@heraldjs/core/internal/delivery/pruneExpiredKeys.js";
import { attachWorkerLogger } from "@heraldjs/core/internal/delivery/workerLogging.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { storeDeadlines } from "@heraldjs/core/internal/store/storeDeadlines.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { Logger } from "pino";
import type { ServiceTransports } from "../config/serviceTransports.js";
import { backendFor } from "../store/backends.js";
import type { DatabaseTarget } from "../store/databaseTarget.js";

export interface WorkerServiceSettings {
  database: DatabaseTarget;
  defaultRetry: RetryPolicy;
  /** What the worker delivers with (buildServiceTransports); closed by stop(). */
  transports: ServiceTransports;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  /** PostgreSQL's timeouts derive from it (../store/storeDeadlines.ts), as in `herald serve`. */
  requestDeadlineMs: number;
  logger: Logger;
  clock: Clock;
  /** Runs on the store after migrating, before the worker starts (config upserts). */
  seed: (store: DeliveryStore) => Promise<void>;
}

export interface RunningWorkerService {
  /** Graceful; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startWorkerService(
  settings: WorkerServiceSettings,
): Promise<RunningWorkerService> {
  const { logger, clock } = settings;
  // A frozen database fails the worker's claims and result writes after the query timeout
  // (retried at the next poll; an unrecorded result is sent again once its lease ends) instead
  // of stopping it for as long as the database stays frozen.
  const backend = backendFor(settings.database.dialect);
  const database = await backend
    .open(settings.database, {
      role: "worker",
      pgTimeouts: storeDeadlines(settings.requestDeadlineMs).pg,
    })
    .catch(async (error: unknown) => {
      await settings.transports.close();
      throw error;
    });
  let pruneTimer: NodeJS.Timeout | undefined;
  let worker: ReturnType<typeof createDeliveryWorker> | null = null;
  try {
    const report = await backend.migrate(database);
    if (report.applied.length > 0) {
      logger.info({ applied: report.applied, version: report.version }, "database migrated");
    }
    const store = await backend.deliveryStore(database, { clock });
    await settings.seed(store);
    worker = createDeliveryWorker({
      store,
      clock,
      transports: settings.transports.transports,
      defaultRetry: settings.defaultRetry,
      concurrency: settings.concurrency,
      leaseMs: settings.leaseMs,
      pollIntervalMs: settings.pollIntervalMs,
    });
    attachWorkerLogger(worker, logger);
    worker.start();
    logger.info({ owner: worker.owner }, "delivery worker started");
    pruneTimer = setInterval(() => {
      pruneExpiredKeys(store).catch((error: unknown) => {
        logger.warn({ err: error }, "pruning expired dedupe keys failed");
      });
    }, PRUNE_INTERVAL_MS);
    pruneTimer.unref();

    const running = worker;
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        await running.stop();
        await settings.transports.close();
        await database.close();
        logger.info("Herald stopped");
      })();
      return stopped;
    };
    return { stop };
  } catch (error) {
    clearInterval(pruneTimer);
    await worker?.stop().catch(() => {});
    await settings.transports.close();
    await database.close().catch(() => {});
    throw error;
  }
}
