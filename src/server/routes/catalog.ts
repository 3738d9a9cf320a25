// Event types (`/v1/event-types`) and inbound sources (`/v1/sources`).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { HeraldError } from "../../core/errors.js";
import { MAX_NAME_LENGTH } from "../../model/constants.js";
import {
  toEventTypeInput,
  type WireEventTypeInput,
  wireEventTypeSchema,
} from "../../wire/eventType.js";
import { eventTypeToWire, sourceToWire } from "../../wire/records.js";
import { toSourceInput, type WireSourceInput, wireSourceSchema } from "../../wire/source.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED, errorShape, eventTypeShape, sourceShape } from "./shapes.js";

const nameParams = z.object({ name: z.string().min(1).max(MAX_NAME_LENGTH) });
const list = (item: z.ZodType) => z.object({ data: z.array(item) });

function notFound(kind: "event_type" | "source", name: string): HeraldError {
  const label = kind === "event_type" ? "event type" : "source";
  return new HeraldError(`${kind}.not_found`, `No ${label} is named ${JSON.stringify(name)}`);
}

export function catalogRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, sources } = deps;

  app.get(
    "/event-types",
    {
      schema: routeSchema({ summary: "List event types", response: { 200: list(eventTypeShape) } }),
    },
    async () => ({ data: (await store.listEventTypes()).map(eventTypeToWire) }),
  );
  app.post(
    "/event-types",
    {
      schema: routeSchema({
        summary: "Create or replace an event type",
        body: wireEventTypeSchema,
        response: { 201: eventTypeShape, 200: eventTypeShape, "4xx": errorShape },
      }),
    },
    async (request, reply) => {
      const input = toEventTypeInput(request.body as WireEventTypeInput);
      const existed = (await store.getEventType(input.name)) !== undefined;
      const record = await store.upsertEventType(input);
      return reply.code(existed ? 200 : 201).send(eventTypeToWire(record));
    },
  );
  app.get(
    "/event-types/:name",
    {
      schema: routeSchema({
        summary: "One event type",
        params: nameParams,
        response: { 200: eventTypeShape, 404: errorShape },
      }),
    },
    async (request) => {
      const { name } = request.params as z.infer<typeof nameParams>;
      const record = await store.getEventType(name);
      if (record === undefined) throw notFound("event_type", name);
      return eventTypeToWire(record);
    },
  );
  app.delete(
    "/event-types/:name",
    {
      schema: routeSchema({
        summary: "Delete an event type (messages keep their type)",
        params: nameParams,
        response: { 204: DELETED, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const { name } = request.params as z.infer<typeof nameParams>;
      if (!(await store.deleteEventType(name))) throw notFound("event_type", name);
      return reply.code(204).send();
    },
  );

  app.get(
    "/sources",
    {
      schema: routeSchema({
        summary: "List inbound sources (secrets are never returned)",
        response: { 200: list(sourceShape) },
      }),
    },
    async () => ({ data: (await store.listSources()).map(sourceToWire) }),
  );
  app.post(
    "/sources",
    {
      schema: routeSchema({
        summary: "Create or replace an inbound source",
        description:
          "Webhooks to POST /webhooks/{name} are verified with this scheme and these secrets.",
        body: wireSourceSchema,
        response: { 201: sourceShape, 200: sourceShape, "4xx": errorShape },
      }),
    },
    async (request, reply) => {
      const input = toSourceInput(request.body as WireSourceInput);
      const existed = (await store.getSource(input.name)) !== undefined;
      const record = await store.upsertSource(input);
      sources.invalidate(record.name);
      return reply.code(existed ? 200 : 201).send(sourceToWire(record));
    },
  );
  app.get(
    "/sources/:name",
    {
      schema: routeSchema({
        summary: "One inbound source",
        params: nameParams,
        response: { 200: sourceShape, 404: errorShape },
      }),
    },
    async (request) => {
      const { name } = request.params as z.infer<typeof nameParams>;
      const record = await store.getSource(name);
      if (record === undefined) throw notFound("source", name);
      return sourceToWire(record);
    },
  );
  app.delete(
    "/sources/:name",
    {
      schema: routeSchema({
        summary: "Delete an inbound source (its webhooks then get 404)",
        params: nameParams,
        response: { 204: DELETED, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const { name } = request.params as z.infer<typeof nameParams>;
      const deleted = await store.deleteSource(name);
      sources.invalidate(name);
      if (!deleted) throw notFound("source", name);
      return reply.code(204).send();
    },
  );
}
