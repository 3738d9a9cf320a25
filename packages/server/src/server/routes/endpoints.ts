// `/v1/endpoints`: create (the secret is returned once), list, read, update, enable/disable,
// delete, rotate the signing secret, and recover failed deliveries since a time.

import { rotateEndpointSecret } from "@heraldjs/core/internal/delivery/endpointSecrets.js";
import { schemeSpecFor } from "@heraldjs/core/internal/delivery/transports/signingHeaders.js";
import {
  DEFAULT_ENDPOINT_TRANSPORT,
  MAX_NAME_LENGTH,
} from "@heraldjs/core/internal/model/constants.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  checkSecret,
  toEndpointInput,
  toEndpointPatch,
  type WireEndpointCreateInput,
  type WireEndpointPatch,
  wireEndpointCreateSchema,
  wireEndpointPatchSchema,
} from "../../wire/endpoint.js";
import { type WireRotateSecret, wireRotateSecretSchema } from "../../wire/namedSecret.js";
import { endpointShape, errorShape, pageOf, pageQuery } from "../../wire/recordShapes.js";
import { endpointToWire } from "../../wire/records.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED } from "./shapes.js";

const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.object({
  tenant: z.string().min(1).max(MAX_NAME_LENGTH).optional(),
  enabled: z.enum(["true", "false"]).optional(),
  ...pageQuery,
});
const withSecret = endpointShape.extend({ secret: z.string().describe("Shown once") });
const recoverBody = z.strictObject({
  since: z.iso.datetime({ offset: true }).describe("Replay failed deliveries created since"),
});
const disableBody = z.strictObject({ reason: z.string().max(1024).optional() }).default({});

function endpointNotFound(id: string): HeraldError {
  return new HeraldError("endpoint.not_found", `No endpoint ${JSON.stringify(id)}`);
}

export function endpointRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, clock, checkEndpoint } = deps;
  const params = (request: { params: unknown }) => (request.params as z.infer<typeof idParams>).id;

  app.get(
    "/endpoints",
    {
      schema: routeSchema({
        summary: "List endpoints, oldest first",
        query: listQuery,
        response: { 200: pageOf(endpointShape) },
      }),
    },
    async (request) => {
      const q = request.query as z.infer<typeof listQuery>;
      const page = await store.listEndpoints({
        limit: q.limit,
        cursor: q.cursor ?? null,
        ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
        ...(q.enabled === undefined ? {} : { enabled: q.enabled === "true" }),
      });
      return { data: page.data.map(endpointToWire), next_cursor: page.nextCursor };
    },
  );
  app.post(
    "/endpoints",
    {
      schema: routeSchema({
        summary: "Create an endpoint",
        description: "The signing secret is generated when absent and returned once.",
        body: wireEndpointCreateSchema,
        response: {
          201: withSecret,
          409: errorShape.describe("An endpoint has this id (endpoint.already_exists)"),
        },
      }),
    },
    async (request, reply) => {
      const { input, secret } = toEndpointInput(request.body as WireEndpointCreateInput, {
        now: clock.now(),
      });
      checkEndpoint?.(input.transport ?? DEFAULT_ENDPOINT_TRANSPORT, input.target);
      const record = await store.createEndpoint(input);
      return reply.code(201).send({ ...endpointToWire(record), secret });
    },
  );
  app.get(
    "/endpoints/:id",
    {
      schema: routeSchema({
        summary: "One endpoint",
        params: idParams,
        response: { 200: endpointShape, 404: errorShape },
      }),
    },
    async (request) => {
      const id = params(request);
      const record = await store.getEndpoint(id);
      if (record === undefined) {
        throw endpointNotFound(id);
      }
      return endpointToWire(record);
    },
  );
  app.patch(
    "/endpoints/:id",
    {
      schema: routeSchema({
        summary: "Update an endpoint",
        params: idParams,
        body: wireEndpointPatchSchema,
        response: { 200: endpointShape, 404: errorShape },
      }),
    },
    async (request) => {
      const id = params(request);
      const body = request.body as WireEndpointPatch;
      const patch = toEndpointPatch(body);
      if (checkEndpoint !== undefined && (patch.transport ?? patch.target) !== undefined) {
        const existing = await store.getEndpoint(id);
        if (existing === undefined) throw endpointNotFound(id);
        checkEndpoint(patch.transport ?? existing.transport, patch.target ?? existing.target);
      }
      let record = await store.updateEndpoint(id, patch);
      if (body.enabled !== undefined && body.enabled !== record.enabled) {
        record = await store.setEndpointEnabled(
          id,
          body.enabled,
          body.enabled ? null : "disabled via API",
        );
      }
      return endpointToWire(record);
    },
  );
  app.delete(
    "/endpoints/:id",
    {
      schema: routeSchema({
        summary: "Delete an endpoint with its deliveries",
        params: idParams,
        response: { 204: DELETED, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const id = params(request);
      if (!(await store.deleteEndpoint(id))) {
        throw endpointNotFound(id);
      }
      return reply.code(204).send();
    },
  );
  for (const action of ["enable", "disable"] as const) {
    app.post(
      `/endpoints/:id/${action}`,
      {
        schema: routeSchema({
          summary:
            action === "enable"
              ? "Enable an endpoint (its queued deliveries are sent again)"
              : "Disable an endpoint (deliveries stay queued)",
          params: idParams,
          ...(action === "disable" ? { body: disableBody } : {}),
          response: { 200: endpointShape, 404: errorShape },
        }),
      },
      async (request) => {
        const reason =
          action === "disable"
            ? ((request.body as z.infer<typeof disableBody> | undefined)?.reason ??
              "disabled via API")
            : null;
        return endpointToWire(
          await store.setEndpointEnabled(params(request), action === "enable", reason),
        );
      },
    );
  }
  app.post(
    "/endpoints/:id/rotate-secret",
    {
      schema: routeSchema({
        summary: "Rotate the signing secret",
        description:
          "The new secret signs from now on; the previous ones keep signing for overlap_s (default 24 h), so receivers can switch over.",
        params: idParams,
        body: wireRotateSecretSchema,
        response: { 200: withSecret, 404: errorShape },
      }),
    },
    async (request) => {
      const body = (request.body ?? {}) as WireRotateSecret;
      const id = params(request);
      if (body.secret !== undefined) {
        const existing = await store.getEndpoint(id);
        if (existing === undefined) throw endpointNotFound(id);
        checkSecret(schemeSpecFor(existing), existing.scheme, body.secret, "body.secret");
      }
      const { secret, endpoint } = await rotateEndpointSecret(store, id, {
        clock,
        ...(body.secret === undefined ? {} : { secret: body.secret }),
        ...(body.overlap_s === undefined ? {} : { overlapMs: body.overlap_s * 1000 }),
      });
      return { ...endpointToWire(endpoint), secret };
    },
  );
  app.post(
    "/endpoints/:id/recover",
    {
      schema: routeSchema({
        summary: "Replay the endpoint's failed deliveries created since a time",
        params: idParams,
        body: recoverBody,
        response: { 202: z.object({ replayed: z.int() }), 404: errorShape },
      }),
    },
    async (request, reply) => {
      const id = params(request);
      if ((await store.getEndpoint(id)) === undefined) {
        throw endpointNotFound(id);
      }
      const { since } = request.body as z.infer<typeof recoverBody>;
      const result = await store.recoverEndpoint({ endpointId: id, since });
      return reply.code(202).send({ replayed: result.replayed });
    },
  );
}
