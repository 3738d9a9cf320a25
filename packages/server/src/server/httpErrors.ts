// Every error the service answers with: `{"error": {"code", "message"}}` and the one HTTP status
// each stable code maps to.

import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const EXACT: Readonly<Record<string, number>> = {
  "auth.unauthorized": 401,
  "body.timeout": 408,
  "body.too_large": 413,
  "content_type.unsupported": 415,
  "delivery.in_progress": 409,
  "endpoint.already_exists": 409,
  "expectation.unsupported": 417,
  "header.too_large": 431,
  "request.timeout": 408,
  "route.not_found": 404,
  "secret.already_exists": 409,
  "server.busy": 503,
  "server.shutting_down": 503,
  "source.misconfigured": 503,
  "source.sender_not_allowed": 403,
  "store.unavailable": 503,
  "stream.upgrade_required": 426,
  "stream_token.invalid": 401,
  "url.too_long": 414,
};

/**
 * The status of a code: exact table, then families (`*.not_found` 404, `signature.*` 401…),
 * else 400. `secret.*` is 400: in a request it is the caller's input; a source whose stored
 * secret cannot verify answers 503 `source.misconfigured` instead (ingest/sourceCache.ts).
 */
export function statusForCode(code: string): number {
  const exact = Object.hasOwn(EXACT, code) ? EXACT[code] : undefined;
  if (exact !== undefined) return exact;
  if (code.endsWith(".not_found")) return 404;
  if (code.startsWith("signature.") || code.startsWith("credentials.") || code === "id.missing") {
    return 401;
  }
  if (code === "internal" || code === "url.missing") return 500;
  return 400;
}

const INTERNAL_MESSAGE =
  "Internal error; the server log has the details (request id in the x-request-id header)";
const UNAVAILABLE_MESSAGE =
  "The database cannot be reached right now; retry later (the server log has the details, request id in the x-request-id header)";

/**
 * What the client is told for an error: a 500 never carries the underlying text (a database's
 * or a driver's message, a stack's), nor does 503 `store.unavailable`; those go to the log.
 */
export function publicMessage(code: string, status: number, message: string): string {
  if (status === 500) return INTERNAL_MESSAGE;
  if (code === "store.unavailable") return UNAVAILABLE_MESSAGE;
  return message;
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function sendError(
  reply: FastifyReply,
  code: string,
  message: string,
  status = statusForCode(code),
  details?: unknown,
): FastifyReply {
  return reply
    .code(status)
    .type("application/json")
    .send(errorBody(code, message, details));
}

/** Fastify's own errors (parser, limits, validation) under stable codes. */
function fromFastify(error: FastifyError): HeraldError | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HeraldError("body.too_large", error.message);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new HeraldError(
        error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
          ? "content_type.unsupported"
          : "request.invalid",
        error.message,
      );
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new HeraldError("url.too_long", "A path segment of the URL is too long");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new HeraldError("body.invalid_json", "The request body is not valid JSON");
    default:
      break;
  }
  if (error.validation !== undefined) return new HeraldError("request.invalid", error.message);
  if (error.code === "FST_ERR_CTP_INVALID_TYPE" || error.statusCode === 415) {
    return new HeraldError("content_type.unsupported", error.message);
  }
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
    return new HeraldError("request.invalid", error.message);
  }
  return undefined;
}

/** The app's error handler: known errors as their code's status, anything else as a logged 500. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const fastify = error instanceof HeraldError ? undefined : fromFastify(error as FastifyError);
  const herald = error instanceof HeraldError ? error : (fastify ?? coerceError(error));
  const status = statusForCode(herald.code);
  if (status >= 500) {
    request.log.error({ err: error, code: herald.code }, "request failed");
  }
  if (status === 413) reply.header("connection", "close");
  void sendError(reply, herald.code, publicMessage(herald.code, status, herald.message), status);
}
