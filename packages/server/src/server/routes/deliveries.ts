// `/v1/deliveries`: list by status / endpoint / message with cursor pagination, read one with
// its attempt log, and replay one (by id or unique prefix).

import { DELIVERY_STATUSES } from "@heraldjs/core/internal/model/constants.js";
import type { DeliveryStatus } from "@heraldjs/core/internal/model/deliveryRecords.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  attemptShape,
  deliveryShape,
  errorShape,
  pageOf,
  pageQuery,
} from "../../wire/recordShapes.js";
import { attemptToWire, deliveryToWire } from "../../wire/records.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";

const STATUSES = DELIVERY_STATUSES;

const listQuery = z.strictObject({
  status: z
    .string()
    .regex(new RegExp(`^(${STATUSES.join("|")})(,(${STATUSES.join("|")}))*$`), {
      error: `must be one or more of ${STATUSES.join(", ")}, comma-separated`,
    })
    .optional()
    .describe("Comma-separated statuses"),
  endpoint: z.string().min(1).max(64).optional(),
  message: z.string().min(1).max(64).optional(),
  ...pageQuery,
});
const idParams = z.object({ id: z.string().min(1).max(64) });
const withAttempts = deliveryShape.extend({ attempt_log: z.array(attemptShape) });

export function deliveryRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store } = deps;
  app.get(
    "/deliveries",
    {
      schema: routeSchema({
        summary: "List deliveries, newest first",
        query: listQuery,
        response: { 200: pageOf(deliveryShape) },
      }),
    },
    async (request) => {
      const q = request.query as z.infer<typeof listQuery>;
      const page = await store.listDeliveries({
        limit: q.limit,
        cursor: q.cursor ?? null,
        ...(q.status === undefined ? {} : { status: q.status.split(",") as DeliveryStatus[] }),
        ...(q.endpoint === undefined ? {} : { endpointId: q.endpoint }),
        ...(q.message === undefined ? {} : { messageId: q.message }),
      });
      return { data: page.data.map(deliveryToWire), next_cursor: page.nextCursor };
    },
  );
  app.get(
    "/deliveries/:id",
    {
      schema: routeSchema({
        summary: "A delivery with its attempt log",
        params: idParams,
        response: { 200: withAttempts, 404: errorShape },
      }),
    },
    async (request) => {
      const { id } = request.params as z.infer<typeof idParams>;
      const found = await store.getDelivery(id);
      if (found === undefined) {
        throw new HeraldError("delivery.not_found", `No delivery ${JSON.stringify(id)}`);
      }
      return { ...deliveryToWire(found.delivery), attempt_log: found.attempts.map(attemptToWire) };
    },
  );
  app.post(
    "/deliveries/:id/replay",
    {
      schema: routeSchema({
        summary: "Replay a delivery (by id or unique prefix)",
        description:
          "Back to pending, due now, attempts reset; the same message id (webhook-id) is sent again. 409 while a worker is sending it.",
        params: idParams,
        response: {
          202: deliveryShape,
          404: errorShape.describe("No delivery has this id (delivery.not_found)"),
          409: errorShape.describe(
            "The delivery is being attempted right now (delivery.in_progress)",
          ),
        },
      }),
    },
    async (request, reply) => {
      const { id } = request.params as z.infer<typeof idParams>;
      const delivery = await store.replayDelivery(await store.resolveDeliveryId(id));
      request.log.info({ deliveryId: delivery.id }, "delivery replayed");
      return reply.code(202).send(deliveryToWire(delivery));
    },
  );
}
