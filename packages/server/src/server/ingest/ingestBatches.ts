// The group committer of ingestion, with each batch's deliveries planned from one read of the
// enabled endpoints (inbound messages belong to the default tenant).
import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import {
  DEFAULT_INGEST_MAX_BATCH,
  DEFAULT_TENANT,
} from "@heraldjs/core/internal/model/constants.js";
import {
  createEndpointRouter,
  deliveryInputs,
  enabledEndpoints,
} from "@heraldjs/core/internal/model/routing.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { backendFor } from "../../store/backends.js";
import type { ServiceMetrics } from "../metrics.js";
import { createGroupCommitter, type GroupCommitter } from "./groupCommit.js";

export interface IngestBatchesOptions {
  store: DeliveryStore;
  defaultRetry: RetryPolicy;
  dialect: "sqlite" | "postgres";
  metrics?: Pick<ServiceMetrics, "ingestBatch">;
  maxBatch?: number;
  maxWaitMs?: number;
  /** Submitters stop waiting after this long (GroupCommitOptions.giveUpAfterMs). */
  giveUpAfterMs?: number;
}

export function createIngestBatches(options: IngestBatchesOptions): GroupCommitter {
  const { store, defaultRetry, metrics } = options;
  return createGroupCommitter({
    store,
    maxBatch: options.maxBatch ?? DEFAULT_INGEST_MAX_BATCH,
    maxWaitMs: options.maxWaitMs ?? 0,
    // Transactions in flight at once: the backend profile's ingest writers.
    maxConcurrent: backendFor(options.dialect).ingestWriters,
    ...(options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs }),
    onBatch: (size, ms, failed) => metrics?.ingestBatch(size, ms / 1000, failed),
    prepare: async (inputs) => {
      const router = createEndpointRouter(await enabledEndpoints(store, DEFAULT_TENANT));
      return inputs.map((input) => ({
        ...input,
        deliveries: deliveryInputs(router.match(input.message.type), defaultRetry),
      }));
    },
  });
}
