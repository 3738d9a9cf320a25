// The /v1 management API: one plugin per resource, all behind the API key (added by app.ts).

import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import type { Dispatcher } from "@heraldjs/core/internal/delivery/dispatcher.js";
import type { EndpointTransport } from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { FastifyInstance } from "fastify";
import type { CatalogGate } from "../ingest/closedCatalog.js";
import type { SourceCache } from "../ingest/sourceCache.js";
import { catalogRoutes } from "./catalog.js";
import { deliveryRoutes } from "./deliveries.js";
import { endpointRoutes } from "./endpoints.js";
import { messageRoutes } from "./messages.js";
import { natsTokenRoutes } from "./natsTokens.js";
import { secretRoutes } from "./secrets.js";
import { streamTokenRoutes } from "./streamTokens.js";

export interface ManagementDeps {
  store: DeliveryStore;
  dispatcher: Dispatcher;
  /** Invalidated when a source changes through the API. */
  sources: SourceCache;
  clock: Clock;
  /** Policy of endpoints without their own (for the deliveries a message creates). */
  defaultRetry?: RetryPolicy;
  /** A closed catalogue's ingestion gate: told when an event type changes through the API. */
  catalog?: CatalogGate;
  /**
   * Throws (400 `transport.unavailable`, `function.unknown`) for an endpoint this service
   * cannot deliver to, on create and update (ServiceTransports.checkEndpoint); default: none.
   */
  checkEndpoint?: (transport: EndpointTransport, target: string) => void;
  /** Sources with scheme `none` may be created (`ingest.allow_unsigned`). */
  allowUnsigned?: boolean;
  /** Told when a stream token is revoked, to end its streams in this process at once. */
  streamHub?: { revoked(tokenId: string): void };
}

export async function managementRoutes(app: FastifyInstance, deps: ManagementDeps) {
  catalogRoutes(app, deps);
  endpointRoutes(app, deps);
  messageRoutes(app, deps);
  deliveryRoutes(app, deps);
  secretRoutes(app, deps);
  streamTokenRoutes(app, deps);
  natsTokenRoutes(app, deps);
}
