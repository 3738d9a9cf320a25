// The group committer of ingestion, with each batch's deliveries planned from one read of the
// enabled endpoints (inbound messages belong to the default tenant).
import type { RetryPolicy } from "../../core/retryPolicy.js";
import { DEFAULT_TENANT } from "../../model/constants.js";
import { createEndpointRouter, deliveryInputs, enabledEndpoints } from "../../model/routing.js";
import { backendFor } from "../../store/backends.js";
import type { DeliveryStore } from "../../store/deliveryPorts.js";
import type { SqliteWriter } from "../../store/sqlite/writerThread.js";
import type { ServiceMetrics } from "../metrics.js";
import { createGroupCommitter, type GroupCommitter } from "./groupCommit.js";

/** Batches in flight to the writer thread at once (beyond, they gather on this side). */
const WRITER_MAX_CONCURRENT = 64;

export interface IngestBatchesOptions {
  store: DeliveryStore;
  /**
   * Writes the batches instead of `store`, planning each message's deliveries itself in its
   * transaction (the SQLite writer thread, routing on): no read of the endpoints here. It takes
   * batches while earlier ones are still being written (it merges queued ones into one
   * transaction); when it reports its transactions, the batch metrics are those transactions.
   */
  writer?: Pick<DeliveryStore, "createMessages"> &
    Partial<Pick<SqliteWriter, "observeTransactions">>;
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
  const { writer } = options;
  const giveUp =
    options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs };
  if (writer !== undefined) {
    const observed = writer.observeTransactions !== undefined;
    writer.observeTransactions?.((t) =>
      metrics?.ingestBatch(t.messages, t.durationMs / 1000, t.failed),
    );
    return createGroupCommitter({
      store: writer,
      maxBatch: options.maxBatch ?? 256,
      maxWaitMs: options.maxWaitMs ?? 0,
      // Each event-loop turn's messages are posted at once, while earlier batches are still
      // being written: the thread never waits for this loop between its transactions.
      maxConcurrent: WRITER_MAX_CONCURRENT,
      ...giveUp,
      ...(observed
        ? {}
        : { onBatch: (size, ms, failed) => metrics?.ingestBatch(size, ms / 1000, failed) }),
    });
  }
  return createGroupCommitter({
    store,
    maxBatch: options.maxBatch ?? 256,
    maxWaitMs: options.maxWaitMs ?? 0,
    // SQLite has one writer; PostgreSQL commits several transactions at once.
    maxConcurrent: backendFor(options.dialect).ingestWriters,
    ...giveUp,
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
