// The group committer of ingestion, with each batch's deliveries planned from one read of the
// enabled endpoints (inbound messages belong to the default tenant). Endpoints' filters see the
// webhook's payload and its request headers (IngestInput.filterHeaders, not stored); an endpoint
// whose filter refuses the message gets no delivery and is recorded as filtered.
import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import {
  DEFAULT_INGEST_MAX_BATCH,
  DEFAULT_TENANT,
} from "@heraldjs/core/internal/model/constants.js";
import { createEndpointRoutes } from "@heraldjs/core/internal/model/endpointRoutes.js";
import { deliveryInputs } from "@heraldjs/core/internal/model/routing.js";
import type {
  CreateMessageInput,
  DeliveryStore,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
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

/** An inbound message as ingestion submits it: with the headers its filters see. */
export interface IngestInput extends CreateMessageInput {
  /** The request headers (filterHeaders); used for routing only, never stored. */
  filterHeaders?: Readonly<Record<string, string>>;
}

/**
 * The `headers` endpoints' filters see for a webhook: every request header, names lowercase
 * (as Node gives them), a repeated header's values joined with ", ", own properties only.
 */
export function filterHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

export function createIngestBatches(options: IngestBatchesOptions): GroupCommitter {
  const { store, defaultRetry, metrics } = options;
  const routes = createEndpointRoutes(store);
  const maxBatch = options.maxBatch ?? DEFAULT_INGEST_MAX_BATCH;
  return createGroupCommitter({
    store,
    maxBatch,
    maxWaitMs: options.maxWaitMs ?? 0,
    // Transactions in flight at once: the backend profile's ingest writers, a further one only
    // for a backlog of a full batch. Below that, webhooks wait for the transaction in flight and
    // share the next: on PostgreSQL a statement's fixed cost (its executor start, its commit) is
    // then paid by a dozen webhooks or more instead of a few (docs/benchmarks.md, round nine).
    maxConcurrent: backendFor(options.dialect).ingestWriters,
    overlapFrom: maxBatch,
    ...(options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs }),
    onBatch: (size, ms, failed) => metrics?.ingestBatch(size, ms / 1000, failed),
    // The first round routes on the cached endpoints and has the write check their version
    // (no read before the write); a refused round reads the version and lists again if needed.
    prepare: async (inputs, { cached }) => {
      const { router, version } = await routes.routed(DEFAULT_TENANT, { cached });
      const routedInputs = inputs.map((input: IngestInput): CreateMessageInput => {
        const { filterHeaders: headers = NO_HEADERS, ...rest } = input;
        const route = router.route(input.message.type, {
          payload: input.message.payload,
          headers,
        });
        return {
          ...rest,
          deliveries: deliveryInputs(route.deliver, defaultRetry),
          filtered: route.filtered.map((endpoint) => endpoint.id),
        };
      });
      return cached && version !== undefined
        ? {
            inputs: routedInputs,
            options: { endpointsVersion: { tenant: DEFAULT_TENANT, version } },
          }
        : { inputs: routedInputs };
    },
  });
}
