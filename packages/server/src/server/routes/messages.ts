// `/v1/messages`: dispatch a message to the tenant's matching endpoints (idempotent with the
// Idempotency-Key header) and read one back with its deliveries.

import { MAX_EVENT_TYPE_LENGTH } from "@heraldjs/core/internal/core/eventType.js";
import type { DispatchInput } from "@heraldjs/core/internal/delivery/dispatcher.js";
import { DEFAULT_TENANT, MAX_NAME_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { headerMapSchema, invalidField, keySchema } from "@heraldjs/spec/internal/wire/common.js";
import { toRetryPolicy, wireRetrySchema } from "@heraldjs/spec/internal/wire/retry.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { checkEndpointTarget } from "../../wire/endpoint.js";
import { errorShape, messageShape } from "../../wire/recordShapes.js";
import { messageToWire } from "../../wire/records.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";

const body = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(MAX_EVENT_TYPE_LENGTH)
    .describe("A concrete event type, e.g. order.created.v1"),
  payload: z.record(z.string(), z.unknown()).describe("A JSON object"),
  tenant: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe(`Default: ${DEFAULT_TENANT}`),
  url: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .describe(
      "Ad hoc: deliver to this absolute http(s) URL only, instead of to the matching endpoints; needs secret_name",
    ),
  secret_name: keySchema
    .optional()
    .describe("Ad hoc: the tenant's named secret (/v1/secrets) that signs, with its scheme"),
  retry: wireRetrySchema.optional().describe("Ad hoc: the retry policy; default the service's"),
  headers: headerMapSchema
    .optional()
    .describe(
      "The headers endpoints' filters see as `headers` (docs/filters.md), names lowercased; used for routing only, not stored",
    ),
});
const dispatched = z.object({
  message_id: z.string(),
  deliveries: z.int().describe("Deliveries created (one per matching enabled endpoint)"),
  duplicate: z.boolean().describe("True when the Idempotency-Key was used before"),
});
const idParams = z.object({ id: z.string().min(1).max(64) });

function idempotencyKey(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const key = Array.isArray(value) ? value.join(",") : value;
  if (key.trim() === "" || key.length > MAX_NAME_LENGTH) {
    throw new HeraldError(
      "request.invalid",
      `The Idempotency-Key header must be 1–${MAX_NAME_LENGTH} characters`,
    );
  }
  return key;
}

/** The ad-hoc part of a dispatch: `url` and `secret_name` together, `retry` only with them. */
function adhocTarget(
  input: z.infer<typeof body>,
): Pick<DispatchInput, "url" | "secretName" | "retry"> {
  if (input.url === undefined) {
    if (input.secret_name !== undefined || input.retry !== undefined) {
      const field = input.secret_name === undefined ? "retry" : "secret_name";
      throw invalidField(field, "is only for ad-hoc dispatches (with url)");
    }
    return {};
  }
  checkEndpointTarget("http", input.url);
  if (input.secret_name === undefined) throw invalidField("secret_name", "is required with url");
  return {
    url: input.url,
    secretName: input.secret_name,
    ...(input.retry === undefined ? {} : { retry: toRetryPolicy(input.retry) }),
  };
}

export function messageRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, dispatcher } = deps;
  app.post(
    "/messages",
    {
      schema: routeSchema({
        summary: "Send a message to every matching endpoint",
        description:
          "Stores the message and one delivery per enabled endpoint of the tenant whose event types match and whose filter (if any) accepts the payload and the body's headers; an endpoint whose filter refuses it gets no delivery and is listed under filtered by GET /v1/messages/:id. With an Idempotency-Key header, repeating the call returns the first message (200) and creates nothing. With url and secret_name (ad hoc) the message has one delivery, to that URL, signed with the named secret (404 secret.not_found when the tenant has none of that name), with the same retries, dead letter, replay and attempt log.",
        body,
        response: {
          202: dispatched,
          200: dispatched,
          404: errorShape.describe(
            "Ad hoc: the tenant has no secret of that name (secret.not_found)",
          ),
        },
      }),
    },
    async (request, reply) => {
      const input = request.body as z.infer<typeof body>;
      const result = await dispatcher.dispatch({
        type: input.type,
        payload: input.payload as JsonObject,
        ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
        ...(input.headers === undefined ? {} : { headers: input.headers }),
        ...adhocTarget(input),
        idempotencyKey: idempotencyKey(request.headers["idempotency-key"]),
      });
      request.log.info(
        { messageId: result.messageId, deliveries: result.deliveries, duplicate: result.duplicate },
        "message dispatched",
      );
      return reply.code(result.created ? 202 : 200).send({
        message_id: result.messageId,
        deliveries: result.deliveries,
        duplicate: result.duplicate,
      });
    },
  );
  app.get(
    "/messages/:id",
    {
      schema: routeSchema({
        summary: "A message with its deliveries",
        params: idParams,
        response: { 200: messageShape, 404: errorShape },
      }),
    },
    async (request) => {
      const { id } = request.params as z.infer<typeof idParams>;
      const found = await store.getMessage(id);
      if (found === undefined) {
        throw new HeraldError("message.not_found", `No message ${JSON.stringify(id)}`);
      }
      return messageToWire(found.message, found.deliveries, found.filtered);
    },
  );
}
