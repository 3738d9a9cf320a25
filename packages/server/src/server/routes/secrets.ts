// `/v1/secrets`: named signing secrets per tenant (what ad-hoc dispatches name as `secret_name`):
// create, list, read, rotate and delete. Values are write-only: only a generated value is ever
// returned, once, by the call that generated it.

import { rotateNamedSecret } from "@heraldjs/core/internal/delivery/namedSecrets.js";
import { schemeSpecFor } from "@heraldjs/core/internal/delivery/transports/signingHeaders.js";
import { DEFAULT_TENANT, MAX_NAME_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { namedSecretNotFound } from "@heraldjs/core/internal/model/namedSecretRecords.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { checkSecret } from "../../wire/endpoint.js";
import {
  namedSecretShape,
  namedSecretToWire,
  toNamedSecretInput,
  type WireNamedSecretCreateInput,
  type WireRotateSecret,
  wireNamedSecretCreateSchema,
  wireRotateSecretSchema,
} from "../../wire/namedSecret.js";
import { errorShape } from "../../wire/recordShapes.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED } from "./shapes.js";

const nameParams = z.object({ name: z.string().min(1).max(64) });
const tenantQuery = z.object({
  tenant: z
    .string()
    .min(1)
    .max(MAX_NAME_LENGTH)
    .optional()
    .describe(`The secret's tenant; default ${DEFAULT_TENANT}`),
});
const listQuery = z.object({
  tenant: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe("Only this tenant's"),
});
const withValue = namedSecretShape.extend({
  secret: z
    .string()
    .optional()
    .describe("Only when Herald generated the value: shown this once, never again"),
});
const refused = { 400: errorShape, 401: errorShape };

export function secretRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, clock } = deps;
  const target = (request: { params: unknown; query: unknown }) => ({
    name: (request.params as z.infer<typeof nameParams>).name,
    tenant: (request.query as z.infer<typeof tenantQuery>).tenant ?? DEFAULT_TENANT,
  });

  app.get(
    "/secrets",
    {
      schema: routeSchema({
        summary: "List named secrets (never their values)",
        query: listQuery,
        response: { 200: z.object({ data: z.array(namedSecretShape) }), ...refused },
      }),
    },
    async (request) => {
      const { tenant } = request.query as z.infer<typeof listQuery>;
      const records = await store.listNamedSecrets(tenant === undefined ? {} : { tenant });
      return { data: records.map(namedSecretToWire) };
    },
  );
  app.post(
    "/secrets",
    {
      schema: routeSchema({
        summary: "Create a named secret",
        description:
          "A signing secret kept by name, with the scheme it signs with, for ad-hoc dispatches (POST /v1/messages with url and secret_name). The value is write-only: when absent one is generated for the scheme and returned in this response only.",
        body: wireNamedSecretCreateSchema,
        response: { 201: withValue, ...refused, 409: errorShape },
      }),
    },
    async (request, reply) => {
      const { input, secret, generated } = toNamedSecretInput(
        request.body as WireNamedSecretCreateInput,
        clock.now(),
      );
      const record = await store.createNamedSecret(input);
      return reply
        .code(201)
        .send({ ...namedSecretToWire(record), ...(generated ? { secret } : {}) });
    },
  );
  app.get(
    "/secrets/:name",
    {
      schema: routeSchema({
        summary: "One named secret (never its value)",
        params: nameParams,
        query: tenantQuery,
        response: { 200: namedSecretShape, ...refused, 404: errorShape },
      }),
    },
    async (request) => {
      const { tenant, name } = target(request);
      const record = await store.getNamedSecret(tenant, name);
      if (record === undefined) throw namedSecretNotFound(tenant, name);
      return namedSecretToWire(record);
    },
  );
  app.post(
    "/secrets/:name/rotate",
    {
      schema: routeSchema({
        summary: "Rotate a named secret",
        description:
          "The new value signs from now on, also the retries of deliveries already queued; the previous ones keep signing for overlap_s (default 24 h), so receivers can switch over. A value given is never returned; a generated one is returned in this response only.",
        params: nameParams,
        query: tenantQuery,
        body: wireRotateSecretSchema,
        response: { 200: withValue, ...refused, 404: errorShape },
      }),
    },
    async (request) => {
      const { tenant, name } = target(request);
      const body = (request.body ?? {}) as WireRotateSecret;
      if (body.secret !== undefined) {
        const existing = await store.getNamedSecret(tenant, name);
        if (existing === undefined) throw namedSecretNotFound(tenant, name);
        checkSecret(schemeSpecFor(existing), existing.scheme, body.secret, "body.secret");
      }
      const { secret, record } = await rotateNamedSecret(store, tenant, name, {
        clock,
        ...(body.secret === undefined ? {} : { secret: body.secret }),
        ...(body.overlap_s === undefined ? {} : { overlapMs: body.overlap_s * 1000 }),
      });
      return { ...namedSecretToWire(record), ...(body.secret === undefined ? { secret } : {}) };
    },
  );
  app.delete(
    "/secrets/:name",
    {
      schema: routeSchema({
        summary: "Delete a named secret",
        description:
          "Deliveries still queued for it are kept: their attempts fail with secret.not_found and are retried by their policy, so creating a secret of the same name before their last attempt lets them through.",
        params: nameParams,
        query: tenantQuery,
        response: { 204: DELETED, ...refused, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const { tenant, name } = target(request);
      if (!(await store.deleteNamedSecret(tenant, name))) throw namedSecretNotFound(tenant, name);
      return reply.code(204).send();
    },
  );
}
