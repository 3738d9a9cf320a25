// `/v1/stream-tokens`: the short-lived, revocable tokens a browser opens `/v1/stream` with.
// The token is returned once, by the call that made it; the store keeps only its SHA-256.
import { mintStreamToken } from "@heraldjs/core/internal/delivery/streamTokens.js";
import { streamTokenNotFound } from "@heraldjs/core/internal/model/streamRecords.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { errorShape } from "../../wire/recordShapes.js";
import {
  mintedStreamTokenShape,
  streamTokenShape,
  streamTokenToWire,
  type WireStreamTokenCreate,
  wireStreamTokenCreateSchema,
} from "../../wire/streamToken.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED } from "./shapes.js";

const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.object({
  tenant: z.string().min(1).max(255).optional().describe("Only this tenant's"),
});
const refused = { 400: errorShape, 401: errorShape };

export function streamTokenRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, clock } = deps;
  app.post(
    "/stream-tokens",
    {
      schema: routeSchema({
        summary: "Create a stream token",
        description:
          "A token for GET /v1/stream (Server-Sent Events) and GET /v1/stream/ws (WebSocket) that reads one tenant's events of the given types until it expires (ttl_s) or is revoked. The token is in this response only: Herald keeps its SHA-256.",
        body: wireStreamTokenCreateSchema,
        response: { 201: mintedStreamTokenShape, ...refused },
      }),
    },
    async (request, reply) => {
      const body = request.body as WireStreamTokenCreate;
      const { token, record } = await mintStreamToken(
        store,
        {
          ...(body.tenant === undefined ? {} : { tenant: body.tenant }),
          eventTypes: body.event_types,
          ttlS: body.ttl_s,
        },
        { clock },
      );
      return reply.code(201).send({ ...streamTokenToWire(record), token });
    },
  );
  app.get(
    "/stream-tokens",
    {
      schema: routeSchema({
        summary: "List stream tokens (never the tokens)",
        query: listQuery,
        response: { 200: z.object({ data: z.array(streamTokenShape) }), ...refused },
      }),
    },
    async (request) => {
      const { tenant } = request.query as z.infer<typeof listQuery>;
      const records = await store.listStreamTokens(tenant === undefined ? {} : { tenant });
      return { data: records.map(streamTokenToWire) };
    },
  );
  app.delete(
    "/stream-tokens/:id",
    {
      schema: routeSchema({
        summary: "Revoke a stream token",
        description:
          "The token opens no stream from now on, and the streams it opened in this process end at once (in other processes, at their next heartbeat).",
        params: idParams,
        response: { 204: DELETED, ...refused, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const { id } = request.params as z.infer<typeof idParams>;
      const record = await store.revokeStreamToken(id);
      if (record === undefined) throw streamTokenNotFound(id);
      deps.streamHub?.revoked(id);
      return reply.code(204).send();
    },
  );
}
