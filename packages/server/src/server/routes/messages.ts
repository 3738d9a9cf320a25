// `/v1/messages`: dispatch a message to the tenant's matching endpoints (idempotent with the
// Idempotency-Key header) and read one back with its deliveries.

import { MAX_EVENT_TYPE_LENGTH } from "@heraldjs/core/internal/core/eventType.js";
import { DEFAULT_TENANT, MAX_NAME_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
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

export function messageRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, dispatcher } = deps;
  app.post(
    "/messages",
    {
      schema: routeSchema({
        summary: "Send a message to every matching endpoint",
        description:
          "Stores the message and one delivery per enabled endpoint of the tenant whose event types match. With an Idempotency-Key header, repeating the call returns the first message (200) and creates nothing.",
        body,
        response: { 202: dispatched, 200: dispatched, "4xx": errorShape, 503: errorShape },
      }),
    },
    async (request, reply) => {
      const input = request.body as z.infer<typeof body>;
      const result = await dispatcher.dispatch({
        type: input.type,
        payload: input.payload as JsonObject,
        ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
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
      return messageToWire(found.message, found.deliveries);
    },
  );
}
