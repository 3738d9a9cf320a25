// Event types (`/v1/event-types`) and inbound sources (`/v1/sources`).

import { MAX_NAME_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  toEventTypeInput,
  type WireEventTypeInput,
  wireEventTypeSchema,
} from "../../wire/eventType.js";
import { errorShape, eventTypeShape, sourceShape } from "../../wire/recordShapes.js";
import { eventTypeToWire, sourceToWire } from "../../wire/records.js";
import { toSourceInput, type WireSourceInput, wireSourceSchema } from "../../wire/source.js";
import { routeSchema } from "../routeSchema.js";
import type { ManagementDeps } from "./management.js";
import { DELETED } from "./shapes.js";

const nameParams = z.object({ name: z.string().min(1).max(MAX_NAME_LENGTH) });
const list = (item: z.ZodType) => z.object({ data: z.array(item) });

function notFound(kind: "event_type" | "source", name: string): HeraldError {
  const label = kind === "event_type" ? "event type" : "source";
  return new HeraldError(`${kind}.not_found`, `No ${label} is named ${JSON.stringify(name)}`);
}

/** The four routes of a catalogue kept by name: list, create or replace, read one, delete. */
interface ByNameRoutes<I, R extends { name: string }> {
  path: "/event-types" | "/sources";
  kind: "event_type" | "source";
  shape: z.ZodType;
  body: z.ZodType;
  summaries: { list: string; upsert: string; get: string; delete: string };
  upsertDescription?: string;
  toInput(body: unknown): I;
  toWire(record: R): unknown;
  list(): Promise<R[]>;
  get(name: string): Promise<R | undefined>;
  upsert(input: I): Promise<R>;
  remove(name: string): Promise<boolean>;
  /** After a write or delete of `name` (e.g. dropping a cached copy). */
  changed?(name: string): void;
}

function byNameRoutes<I extends { name: string }, R extends { name: string }>(
  app: FastifyInstance,
  spec: ByNameRoutes<I, R>,
): void {
  const { path, shape, summaries } = spec;
  const nameOf = (params: unknown) => (params as z.infer<typeof nameParams>).name;
  app.get(
    path,
    { schema: routeSchema({ summary: summaries.list, response: { 200: list(shape) } }) },
    async () => ({ data: (await spec.list()).map(spec.toWire) }),
  );
  app.post(
    path,
    {
      schema: routeSchema({
        summary: summaries.upsert,
        ...(spec.upsertDescription === undefined ? {} : { description: spec.upsertDescription }),
        body: spec.body,
        response: { 201: shape, 200: shape },
      }),
    },
    async (request, reply) => {
      const input = spec.toInput(request.body);
      const existed = (await spec.get(input.name)) !== undefined;
      const record = await spec.upsert(input);
      spec.changed?.(record.name);
      return reply.code(existed ? 200 : 201).send(spec.toWire(record));
    },
  );
  app.get(
    `${path}/:name`,
    {
      schema: routeSchema({
        summary: summaries.get,
        params: nameParams,
        response: { 200: shape, 404: errorShape },
      }),
    },
    async (request) => {
      const name = nameOf(request.params);
      const record = await spec.get(name);
      if (record === undefined) throw notFound(spec.kind, name);
      return spec.toWire(record);
    },
  );
  app.delete(
    `${path}/:name`,
    {
      schema: routeSchema({
        summary: summaries.delete,
        params: nameParams,
        response: { 204: DELETED, 404: errorShape },
      }),
    },
    async (request, reply) => {
      const name = nameOf(request.params);
      const deleted = await spec.remove(name);
      spec.changed?.(name);
      if (!deleted) throw notFound(spec.kind, name);
      return reply.code(204).send();
    },
  );
}

export function catalogRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { store, sources } = deps;
  byNameRoutes(app, {
    path: "/event-types",
    kind: "event_type",
    shape: eventTypeShape,
    body: wireEventTypeSchema,
    summaries: {
      list: "List event types: the declared ones and those recorded from messages (auto)",
      upsert: "Create or replace an event type",
      get: "One event type",
      delete: "Delete an event type (messages keep their type)",
    },
    upsertDescription:
      "Declares the type (auto false). A type recorded from messages keeps its first_seen_at, last_seen_at and count.",
    toInput: (body) => toEventTypeInput(body as WireEventTypeInput),
    toWire: eventTypeToWire,
    list: () => store.listEventTypes(),
    get: (name) => store.getEventType(name),
    upsert: (input) => store.upsertEventType(input),
    remove: (name) => store.deleteEventType(name),
    changed: () => deps.catalog?.invalidate(),
  });
  byNameRoutes(app, {
    path: "/sources",
    kind: "source",
    shape: sourceShape,
    body: wireSourceSchema,
    summaries: {
      list: "List inbound sources (secrets are never returned)",
      upsert: "Create or replace an inbound source",
      get: "One inbound source",
      delete: "Delete an inbound source (its webhooks then get 404)",
    },
    upsertDescription:
      "Webhooks to POST /webhooks/{name} are verified with this scheme and these secrets: a signing scheme, `token` (a shared token in `Authorization: Bearer` or `token_header`), `basic` (HTTP Basic, secrets `user:password`) or `none` (unsigned: refused with 400 source.unsigned_not_allowed unless the service sets ingest.allow_unsigned; always requires its idempotency header). `allow_from` limits the sender addresses (403 source.sender_not_allowed otherwise).",
    toInput: (body) =>
      toSourceInput(body as WireSourceInput, { allowUnsigned: deps.allowUnsigned ?? false }),
    toWire: sourceToWire,
    list: () => store.listSources(),
    get: (name) => store.getSource(name),
    upsert: (input) => store.upsertSource(input),
    remove: (name) => store.deleteSource(name),
    changed: (name) => sources.invalidate(name),
  });
}
