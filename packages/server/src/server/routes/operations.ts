// Liveness, readiness, Prometheus metrics and the OpenAPI document: unauthenticated, so probes
// and scrapers need no key (they reveal counts and shapes, never data or secrets).

import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { sendError } from "../httpErrors.js";
import type { ServiceMetrics } from "../metrics.js";
import { withinStoreWait } from "../requestDeadline.js";
import { responseSchema } from "../routeSchema.js";
import { errorResponse } from "./shapes.js";

interface OperationsRouteOptions {
  /** `ready()` when the store has it (writeReadiness.ts), else `ping()`. */
  store: Pick<DeliveryStore, "ping" | "ready">;
  metrics: ServiceMetrics;
  version: string;
  /** True once shutdown began: /ready answers 503 so load balancers stop sending. */
  isStopping: () => boolean;
  /** How long /ready waits for the store's answer. Default 2000 ms. */
  readyTimeoutMs?: number;
}

const status = z.object({ status: z.string(), version: z.string().optional() });

export async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions) {
  const { store, metrics, version, isStopping } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 2000;
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness: the process answers",
        tags: ["operations"],
        response: { 200: responseSchema(status) },
      },
    },
    async () => ({ status: "ok", version }),
  );
  app.get(
    "/ready",
    {
      schema: {
        summary:
          "Readiness: a write to the store can succeed now and the server is not shutting down",
        tags: ["operations"],
        response: { 200: responseSchema(status), 503: errorResponse },
      },
    },
    async (request, reply) => {
      if (isStopping()) return sendError(reply, "server.shutting_down", "The server is stopping");
      const writes = store.ready !== undefined;
      try {
        await withinStoreWait(
          store.ready === undefined ? store.ping() : store.ready(),
          readyTimeoutMs,
        );
      } catch (error) {
        // /ready needs no key: the driver's text (addresses, paths) goes to the log only.
        request.log.debug({ err: coerceError(error) }, "not ready");
        const why = writes ? "The store cannot take writes" : "The store does not answer";
        return sendError(reply, "store.unavailable", `${why}; the server log has the details`, 503);
      }
      return { status: "ready" };
    },
  );
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics (text exposition format)",
        tags: ["operations"],
        produces: ["text/plain"],
        response: { 200: { description: "The metrics as text", type: "string" } },
      },
    },
    async (_request, reply) => {
      const text = await metrics.scrape();
      return reply.type(metrics.contentType).send(text);
    },
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
