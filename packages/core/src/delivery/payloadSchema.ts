// Validates message payloads against their event type's JSON Schema (ajv), compiling each
// schema once and caching the validator by event type name and catalogue version (updatedAt).

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import type { AnySchema, ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { EventTypeRecord } from "../model/deliveryRecords.js";

/** Schemas are the user's: strict mode would reject harmless unknown keywords and formats. */
const AJV_OPTIONS = { allErrors: false, strict: false, logger: false } as const;

/** Bounds memory when event types are edited over and over; clearing costs one recompile each. */
const CACHE_LIMIT = 1_000;

interface PayloadValidator {
  /** Throws `payload.invalid` naming the failing path; `event_type.invalid` for a bad schema. */
  validate(eventType: EventTypeRecord, payload: JsonObject): void;
  /** How many compiled validators are cached (tests, metrics). */
  readonly size: number;
}

// One Ajv instance per schema: a schema's `$id` can then never clash with an older version of
// the same event type's schema, and a validator can be dropped from the cache on its own.
function newAjv(schema: JsonObject): Ajv {
  const dialect = typeof schema.$schema === "string" ? schema.$schema : "";
  if (dialect.includes("2020-12")) return new Ajv2020(AJV_OPTIONS);
  if (dialect.includes("2019-09")) return new Ajv2019(AJV_OPTIONS);
  return new Ajv(AJV_OPTIONS);
}

function compile(eventType: EventTypeRecord, schema: JsonObject): ValidateFunction {
  try {
    return newAjv(schema).compile(schema as AnySchema);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new HeraldError(
      "event_type.invalid",
      `The JSON Schema of event type ${eventType.name} cannot be compiled: ${reason}`,
      { cause, details: { type: eventType.name } },
    );
  }
}

/** `/items/0/price must be number`; a missing property is named in the path. */
function describeSchemaError(error: ErrorObject): { path: string; message: string } {
  let path = error.instancePath;
  const missing = (error.params as { missingProperty?: unknown }).missingProperty;
  if (error.keyword === "required" && typeof missing === "string") {
    path = `${path}/${missing.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  }
  if (path === "") path = "/";
  return { path, message: `${path} ${error.message ?? `fails ${error.keyword}`}` };
}

export function createPayloadValidator(): PayloadValidator {
  const cache = new Map<string, ValidateFunction>();
  return {
    get size() {
      return cache.size;
    },
    validate(eventType, payload) {
      const schema = eventType.schema;
      if (schema === null) return;
      const cacheKey = `${eventType.name}\u0000${eventType.updatedAt}`;
      let validate = cache.get(cacheKey);
      if (validate === undefined) {
        validate = compile(eventType, schema);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(cacheKey, validate);
      }
      if (validate(payload)) return;
      const first = validate.errors?.[0];
      const { path, message } =
        first === undefined ? { path: "/", message: "/ is invalid" } : describeSchemaError(first);
      throw new HeraldError(
        "payload.invalid",
        `payload does not match the schema of ${eventType.name}: ${message}`,
        {
          details: {
            type: eventType.name,
            path,
            keyword: first?.keyword ?? null,
            schemaPath: first?.schemaPath ?? null,
            error: message,
          },
        },
      );
    },
  };
}
