// `/v1/nats-tokens`: the tokens agents, browsers and Herald's own services connect to nats-server
// with, checked by the auth callout — what `herald nats token` does on the database, over HTTP
// (a web back end mints a `client` token per browser session). The token is returned once, by
// the call that made it; the store keeps only its SHA-256.
import { mintNatsToken, revokeNatsToken } from "@heraldjs/core/internal/delivery/natsTokens.js";
import { invalid } from "@heraldjs/core/internal/model/check.js";
import {
  type NatsTokenListOptions,
  natsTokenNotFound,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  mintedNatsTokenShape,
  natsTokenShape,
  natsTokenToWire,
  type WireNatsTokenCreate,
  wireNatsTokenCreateSchema,
  wireNatsTokenListQuery,
} from "../../wire/natsToken.js";
import { errorShape } from "../../wire/recordShapes.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED } from "./shapes.js";

const idParams = z.object({ id: z.string().min(1).max(64) });
const refused = { 400: errorShape, 401: errorShape };

export function natsTokenRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, clock } = deps;
  app.post(
    "/nats-tokens",
    {
      schema: routeSchema({
        summary: "Create a NATS token",
        description:
          "A token an agent, a browser (identity client: one tenant's live events) or a service presents to nats-server, checked by Herald's auth callout. The token is in this response only: Herald keeps its SHA-256. An agent's id that is not a lowercase UUID, or a client without a tenant, is 400 nats_token.invalid.",
        body: wireNatsTokenCreateSchema,
        response: { 201: mintedNatsTokenShape, ...refused },
      }),
    },
    async (request, reply) => {
      const body = request.body as WireNatsTokenCreate;
      if (body.identity === "client" && body.tenant === undefined) {
        throw invalid(
          "nats_token.invalid",
          "tenant",
          "is required for identity client: a client reads one tenant's events",
        );
      }
      const { token, record } = await mintNatsToken(
        store,
        {
          identity: body.identity,
          id: body.id,
          ...(body.tenant === undefined ? {} : { tenant: body.tenant }),
          ...(body.expires_in_s === undefined ? {} : { ttlS: body.expires_in_s }),
        },
        { clock },
      );
      return reply.code(201).send({ ...natsTokenToWire(record, isoNow(clock)), token });
    },
  );
  app.get(
    "/nats-tokens",
    {
      schema: routeSchema({
        summary: "List NATS tokens (never the tokens)",
        description: "Oldest first, with their state (live, expired, revoked).",
        query: wireNatsTokenListQuery,
        response: { 200: z.object({ data: z.array(natsTokenShape) }), ...refused },
      }),
    },
    async (request) => {
      const query = request.query as z.infer<typeof wireNatsTokenListQuery>;
      const options: NatsTokenListOptions = {
        ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
        ...(query.identity === undefined ? {} : { identity: query.identity }),
        ...(query.id === undefined ? {} : { subjectId: query.id }),
      };
      const records = await store.listNatsTokens(options);
      const now = isoNow(clock);
      return { data: records.map((record) => natsTokenToWire(record, now)) };
    },
  );
  app.get(
    "/nats-tokens/:id",
    {
      schema: routeSchema({
        summary: "Get a NATS token (never the token)",
        params: idParams,
        response: { 200: natsTokenShape, ...refused, 404: errorShape },
      }),
    },
    async (request) => {
      const { id } = request.params as z.infer<typeof idParams>;
      const record = await store.getNatsToken(id);
      if (record === undefined) throw natsTokenNotFound(id);
      return natsTokenToWire(record, isoNow(clock));
    },
  );
  app.delete(
    "/nats-tokens/:id",
    {
      schema: routeSchema({
        summary: "Revoke a NATS token",
        description:
          "The auth callout refuses the token from now on: its holder cannot connect with it again (a connection already open lasts until its user JWT expires). Revoking again keeps the first revocation time.",
        params: idParams,
        response: { 204: DELETED, ...refused, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const { id } = request.params as z.infer<typeof idParams>;
      await revokeNatsToken(store, id);
      return reply.code(204).send();
    },
  );
}
