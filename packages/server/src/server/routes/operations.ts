// Liveness, readiness, Prometheus metrics and the OpenAPI document: unauthenticated, so probes
// and scrapers need no key (they reveal counts and shapes, never data or secrets).

import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { errorBody } from "../httpErrors.js";
import type { ServiceMetrics } from "../metrics.js";
import { type DescribedCheck, type ReadinessCheck, runReadinessChecks } from "../readiness.js";
import { responseSchema } from "../routeSchema.js";

interface OperationsRouteOptions {
  /** `ready()` when the store has it (writeReadiness.ts), else `ping()`. */
  store: Pick<DeliveryStore, "ping" | "ready">;
  metrics: ServiceMetrics;
  version: string;
  /** True once shutdown began: /ready answers 503 so load balancers stop sending. */
  isStopping: () => boolean;
  /** How long /ready waits for each check's answer. Default 2000 ms. */
  readyTimeoutMs?: number;
  /** What /ready checks besides the database (`database` is taken), e.g. `nats`. */
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
}

const time = z.string().describe("ISO 8601, UTC: when the server answered");
const health = z.object({
  status: z.literal("ok"),
  timestamp: time,
  version: z.string(),
});
const checkOutcome = z.object({
  status: z.enum(["ok", "failed"]),
  required: z.boolean().describe("A failed required check makes /ready answer 503"),
  duration_ms: z.int(),
  code: z.string().optional().describe("When failed: a stable code, e.g. store.unavailable"),
  message: z.string().optional(),
});
const readiness = z.object({
  status: z.enum(["ready", "not_ready", "stopping"]),
  timestamp: time,
  checks: z
    .record(z.string(), checkOutcome)
    .describe(
      "`database` always, then each registered check (a message bus…); none while stopping",
    ),
});
const notReady = readiness.extend({
  error: z
    .object({ code: z.string(), message: z.string() })
    .describe("The first failed required check's code, or server.shutting_down"),
});

export async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions) {
  const { store, metrics, version, isStopping } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 2000;
  const writes = store.ready !== undefined;
  const database: DescribedCheck = {
    check: () => (store.ready === undefined ? store.ping() : store.ready()),
    describe: () => ({
      code: "store.unavailable",
      message: `${writes ? "The store cannot take writes" : "The store does not answer"}; the server log has the details`,
    }),
  };
  const checks = new Map<string, DescribedCheck>([["database", database]]);
  for (const [name, check] of Object.entries(options.readinessChecks ?? {})) {
    if (checks.has(name)) throw new Error(`The readiness check ${name} is built in`);
    checks.set(name, check);
  }
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness: the process answers",
        tags: ["operations"],
        response: { 200: responseSchema(health) },
      },
    },
    async () => ({ status: "ok", timestamp: new Date().toISOString(), version }),
  );
  app.get(
    "/ready",
    {
      schema: {
        summary:
          "Readiness: a write to the store can succeed now, every required check passes, and the server is not shutting down",
        tags: ["operations"],
        response: { 200: responseSchema(readiness), 503: responseSchema(notReady) },
      },
    },
    async (request, reply) => {
      const timestamp = new Date().toISOString();
      if (isStopping()) {
        const body = errorBody("server.shutting_down", "The server is stopping");
        return reply.code(503).send({ status: "stopping", timestamp, checks: {}, ...body });
      }
      const report = await runReadinessChecks(checks, readyTimeoutMs, (name, error) => {
        // /ready needs no key: the driver's text (addresses, paths) goes to the log only.
        request.log.debug({ check: name, err: coerceError(error) }, "not ready");
      });
      if (report.ready) return { status: "ready", timestamp, checks: report.checks };
      const failed = report.checks[report.failed!]!;
      const body = errorBody(failed.code!, failed.message!);
      return reply
        .code(503)
        .send({ status: "not_ready", timestamp, checks: report.checks, ...body });
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
