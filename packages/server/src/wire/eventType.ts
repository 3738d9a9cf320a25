// `POST /v1/event-types` and the `event_types:` of herald.yaml.

import { createPayloadValidator } from "@heraldjs/core/internal/delivery/payloadSchema.js";
import { eventTypeRecord } from "@heraldjs/core/internal/model/catalogRecords.js";
import type { EventTypeInput } from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  descriptionSchema,
  invalidField,
  jsonObjectSchema,
  typeNameSchema,
} from "@heraldjs/spec/internal/wire/common.js";
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { z } from "zod";

export const wireEventTypeSchema = z.strictObject({
  /** A concrete type, e.g. `order.created.v1`. */
  name: typeNameSchema,
  description: descriptionSchema.optional(),
  /** JSON Schema of the payload (draft-07 by default; `$schema` picks 2019-09 or 2020-12). */
  schema: jsonObjectSchema.nullable().optional(),
  deprecated: z.boolean().optional(),
});

export type WireEventTypeInput = z.input<typeof wireEventTypeSchema>;
export type WireEventType = z.output<typeof wireEventTypeSchema>;

/** Compiles the schema once so a broken one is refused now, not at the first message. */
function checkSchema(name: string, schema: JsonObject): void {
  const record = eventTypeRecord({ name, schema }, new Date(0).toISOString());
  try {
    createPayloadValidator().validate(record, {});
  } catch (error) {
    if (isHeraldError(error, "payload.invalid")) return; // compiled; {} just does not match
    if (isHeraldError(error, "event_type.invalid")) {
      const reason = error.message.replace(/^.*cannot be compiled: /, "");
      throw invalidField("schema", `is not a valid JSON Schema: ${reason}`, undefined, error);
    }
    throw error;
  }
}

/** The store input of an event-type body; throws `request.invalid` for an uncompilable schema. */
export function toEventTypeInput(wire: WireEventTypeInput): EventTypeInput {
  const schema = (wire.schema ?? null) as JsonObject | null;
  if (schema !== null) checkSchema(wire.name, schema);
  return {
    name: wire.name,
    description: wire.description ?? "",
    schema,
    deprecated: wire.deprecated ?? false,
  };
}
