// Route schemas written once in zod: Fastify validates requests with the zod schema itself,
// and the JSON Schema made from it documents the route in /openapi.json (OpenAPI 3.1 uses JSON
// Schema 2020-12, which is what zod emits).

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifySchemaCompiler } from "fastify";
import { type ZodType, z } from "zod";

const zodOf = new WeakMap<object, ZodType>();

/** JSON Schema of a zod schema (request side), remembered so the validator finds the zod one. */
export function jsonSchema(schema: ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  zodOf.set(json, schema);
  return json;
}

/** JSON Schema of a response shape (documentation only: responses are not validated). */
export function responseSchema(schema: ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

function describePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** `body.retry.schedule_s[0]: Too small: expected number to be >=0`, issues joined by `; `. */
function describeZodError(error: z.ZodError, part: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = describePath(issue.path);
      return `${part}${path === "" ? "" : `.${path}`}: ${issue.message}`;
    })
    .join("; ");
}

export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const zod = zodOf.get(schema as object);
  if (zod === undefined) return (data) => ({ value: data });
  const part = httpPart === "querystring" ? "query" : (httpPart ?? "body");
  return (data) => {
    const result = zod.safeParse(data);
    if (result.success) return { value: result.data };
    return {
      error: new HeraldError("request.invalid", describeZodError(result.error, part), {
        details: { issues: result.error.issues.slice(0, 20) },
      }),
    };
  };
};

interface RouteSpec {
  summary: string;
  description?: string;
  tags?: string[];
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
  headers?: ZodType;
  /** Status → response shape (zod) or a ready JSON Schema. */
  response?: Record<string, ZodType | Record<string, unknown>>;
  /** Needs the API key (management routes). */
  secured?: boolean;
}

function isZod(value: unknown): value is ZodType {
  return typeof value === "object" && value !== null && "safeParse" in value;
}

/** A Fastify route `schema` from zod shapes (validated by zod, documented as JSON Schema). */
export function routeSchema(spec: RouteSpec): Record<string, unknown> {
  const schema: Record<string, unknown> = {
    summary: spec.summary,
    tags: spec.tags ?? ["management"],
  };
  if (spec.description !== undefined) schema.description = spec.description;
  if (spec.params !== undefined) schema.params = jsonSchema(spec.params);
  if (spec.query !== undefined) schema.querystring = jsonSchema(spec.query);
  if (spec.body !== undefined) schema.body = jsonSchema(spec.body);
  if (spec.headers !== undefined) schema.headers = jsonSchema(spec.headers);
  if (spec.response !== undefined) {
    schema.response = Object.fromEntries(
      Object.entries(spec.response).map(([status, shape]) => [
        status,
        isZod(shape) ? responseSchema(shape) : shape,
      ]),
    );
  }
  if (spec.secured !== false) schema.security = [{ bearer: [] }];
  return schema;
}
