// The statuses every operation of /openapi.json lists besides its own: what the machinery around
// the routes can answer on any of them (input rules, the API key, the body limits, the request
// deadline, shutdown). Each is listed by its exact code, never as a `4XX` range, so a client
// generated from the document types each error it can meet
// (test/server/openapiStatuses.unit.test.ts compares the document with the answers).
import { errorResponse } from "./routes/shapes.js";

const error = (description: string) => ({ ...errorResponse, description });

/** On every operation. */
const ALWAYS = {
  400: error(
    "The request is malformed, or a parameter, query or body is invalid (request.invalid, request.malformed, query.invalid, …)",
  ),
  414: error("The request URL is too long (url.too_long)"),
  417: error("An Expect header other than 100-continue (expectation.unsupported)"),
  431: error("The request headers are too large (header.too_large)"),
  503: error(
    "Not now: the database is unavailable (store.unavailable), the server is busy receiving bodies (server.busy) or shutting down (server.shutting_down); retry later",
  ),
} as const;

/** On operations whose method has a body (Fastify reads a DELETE's body too). */
const WITH_BODY = {
  408: error("The body did not arrive in time (body.timeout)"),
  413: error("The body is larger than the limit (body.too_large)"),
  415: error("The body's Content-Type is not one the operation takes (content_type.unsupported)"),
} as const;

const SECURED = { 401: error("The API key is missing or wrong (auth.unauthorized)") } as const;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * The responses of a route as documented: its own, without `4xx`/`5xx` ranges, plus the common
 * ones that apply to it (a route's own description of a status wins).
 */
export function documentedResponses(
  method: string | readonly string[],
  schema: { response?: unknown; security?: unknown },
): Record<string, unknown> {
  const own = Object.fromEntries(
    Object.entries((schema.response ?? {}) as Record<string, unknown>).filter(
      ([status]) => !/^[1-5]xx$/i.test(status),
    ),
  );
  const methods = typeof method === "string" ? [method] : method;
  return {
    ...ALWAYS,
    ...(methods.some((m) => BODY_METHODS.has(m.toUpperCase())) ? WITH_BODY : {}),
    ...(schema.security === undefined ? {} : SECURED),
    ...own,
  };
}
