// Prometheus metrics of one service process (its own registry, never prom-client's global one):
// HTTP requests, ingestion outcomes and batches, delivery outcomes and attempt latency, and the
// queue's depth and oldest due delivery, read from the store at each scrape.

import type { DeliveryWorkerEvent } from "@heraldjs/core/internal/delivery/deliveryEvents.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface ServiceMetrics {
  readonly registry: Registry;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  ingest(source: string | undefined, outcome: "accepted" | "duplicate" | "rejected"): void;
  ingestBatch(size: number, seconds: number, failed: boolean): void;
  /** Feed of the delivery worker's events. */
  workerEvent(event: DeliveryWorkerEvent): void;
  /** Prometheus text format. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const QUEUED = ["pending", "delivering", "retrying", "dead_lettered", "cancelled"] as const;

export function createServiceMetrics(
  store: Pick<DeliveryStore, "deliveryStats">,
  options: { prefix?: string } = {},
): ServiceMetrics {
  const p = options.prefix ?? "herald_";
  const registry = new Registry();
  const requests = new Counter({
    name: `${p}http_requests_total`,
    help: "HTTP requests answered, by route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: "Time to answer an HTTP request.",
    labelNames: ["method", "route"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const ingested = new Counter({
    name: `${p}ingest_requests_total`,
    help: "Inbound webhooks by source and outcome (accepted, duplicate, rejected).",
    labelNames: ["source", "outcome"] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: `${p}ingest_batch_size`,
    help: "Messages per group-commit transaction.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: `${p}ingest_batch_duration_seconds`,
    help: "Time to commit one ingestion batch.",
    labelNames: ["result"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: `${p}deliveries_total`,
    help: "Delivery outcomes: succeeded, retry_scheduled, dead_lettered, released, lease_lost.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const attemptSeconds = new Histogram({
    name: `${p}delivery_attempt_duration_seconds`,
    help: "Duration of one delivery attempt, by result.",
    labelNames: ["result"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const disabled = new Counter({
    name: `${p}endpoints_disabled_total`,
    help: "Endpoints disabled by the worker (410 Gone or failing too long).",
    registers: [registry],
  });
  const workerErrors = new Counter({
    name: `${p}worker_errors_total`,
    help: "Store or transport failures the delivery worker survived.",
    registers: [registry],
  });
  const depth = new Gauge({
    name: `${p}queue_depth`,
    help: "Deliveries by status (delivered ones are counted by deliveries_total).",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const oldestDue = new Gauge({
    name: `${p}oldest_due_delivery_age_seconds`,
    help: "How long the oldest due delivery has waited (0 when nothing is due).",
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: `${p}store_up`,
    help: "1 when the last scrape could read the store, else 0.",
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    httpRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      requestSeconds.observe({ method, route }, seconds);
    },
    ingest(source, outcome) {
      // Unknown names are not labels: a flood of random names must not grow the registry.
      ingested.inc({ source: source ?? "_unknown", outcome });
    },
    ingestBatch(size, seconds, failed) {
      batchSize.observe(size);
      batchSeconds.observe({ result: failed ? "failed" : "committed" }, seconds);
    },
    workerEvent(event) {
      switch (event.name) {
        case "delivery:attempt":
          attemptSeconds.observe(
            { result: event.payload.succeeded ? "success" : "failure" },
            event.payload.durationMs / 1000,
          );
          break;
        case "delivery:succeeded":
          deliveries.inc({ outcome: "succeeded" });
          break;
        case "delivery:retry_scheduled":
          deliveries.inc({ outcome: "retry_scheduled" });
          break;
        case "delivery:dead_lettered":
          deliveries.inc({ outcome: "dead_lettered" });
          break;
        case "delivery:released":
          deliveries.inc({ outcome: "released" });
          break;
        case "delivery:lease_lost":
          deliveries.inc({ outcome: "lease_lost" });
          break;
        case "endpoint:disabled":
          disabled.inc();
          break;
        case "worker:error":
          workerErrors.inc();
          break;
      }
    },
    async scrape() {
      try {
        const stats = await store.deliveryStats();
        for (const status of QUEUED) depth.set({ status }, stats.depth[status] ?? 0);
        oldestDue.set((stats.oldestDueAgeMs ?? 0) / 1000);
        storeUp.set(1);
      } catch {
        // The scrape still answers: the store gauge says why the queue figures are stale.
        storeUp.set(0);
      }
      return registry.metrics();
    },
  };
}
