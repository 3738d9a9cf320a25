// The live streams' routes: GET /v1/stream (SSE), GET /v1/stream/ws (WebSocket; a plain GET is
// answered 426) and GET /v1/stream/client.js. They take a stream token, not the API key, so
// they are registered beside the /v1 plugin, not in it. Stopping the server ends every stream.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import { routeSchema } from "../routeSchema.js";
import { errorResponse } from "../routes/shapes.js";
import { STREAM_CLIENT_SCRIPT } from "./clientScript.js";
import { serveSse } from "./sseStream.js";
import {
  checkStreamRequest,
  type StreamContext,
  type StreamQuery,
  streamQuery,
} from "./streamRequest.js";
import { installWebSocketStreams, STREAM_WS_PATH } from "./wsStream.js";

const TOKEN_REFUSED = {
  ...errorResponse,
  description: "The stream token is missing, unknown, expired or revoked (stream_token.invalid)",
};
const BAD_CURSOR = {
  ...errorResponse,
  description:
    "The last event id is not one the stream sent (stream.cursor_invalid), a types pattern is invalid (type_pattern.invalid), or the query is invalid",
};

/** A stream route's schema: taken with a stream token, not the API key. */
function streamSchema(spec: Parameters<typeof routeSchema>[0]): Record<string, unknown> {
  return { ...routeSchema(spec), security: [{ streamToken: [] }] };
}

export async function streamRoutes(app: FastifyInstance, context: StreamContext): Promise<void> {
  app.get(
    "/v1/stream",
    {
      schema: streamSchema({
        summary: "Live events (Server-Sent Events)",
        description:
          "The token's tenant's events of its types, as text/event-stream: each event has `id:` (the stream cursor), `event:` (the event type; left out with event_names=false) and `data:` ({id, type, tenant, created_at, payload}). With Last-Event-ID (or last_event_id) the stored events after it come first, then live ones, with no gap and no duplicate. A `: ping` comment comes every heartbeat; a client that stops reading is cut off once its unsent bytes pass the bound. See docs/streams.md.",
        tags: ["streams"],
        query: streamQuery,
        response: {
          200: {
            description: "The event stream (text/event-stream)",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          400: BAD_CURSOR,
          401: TOKEN_REFUSED,
        },
        secured: false,
      }),
    },
    (request, reply) => serveSse(context, request, reply),
  );
  app.get(
    STREAM_WS_PATH,
    {
      schema: streamSchema({
        summary: "Live events (WebSocket)",
        description:
          "The same stream as GET /v1/stream over a WebSocket: one JSON frame per event, {id (the stream cursor), message_id, type, tenant, created_at, payload}; resume with last_event_id. The server pings; close code 4001 means the token expired or was revoked. A request without an upgrade is answered 426 once its token is checked.",
        tags: ["streams"],
        query: streamQuery.omit({ event_names: true }),
        response: {
          101: { description: "Switching Protocols: the WebSocket is open", type: "null" },
          400: BAD_CURSOR,
          401: TOKEN_REFUSED,
          426: {
            ...errorResponse,
            description: "A plain HTTP request: open it as a WebSocket (stream.upgrade_required)",
          },
        },
        secured: false,
      }),
    },
    async (request) => {
      await checkStreamRequest(context, request.query as StreamQuery, request.headers);
      throw new HeraldError(
        "stream.upgrade_required",
        `Open ${STREAM_WS_PATH} as a WebSocket (Upgrade: websocket)`,
      );
    },
  );
  app.get("/v1/stream/client.js", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", "public, max-age=300")
      .header("access-control-allow-origin", "*")
      .send(STREAM_CLIENT_SCRIPT),
  );
  installWebSocketStreams(app, context);
  app.addHook("preClose", (done) => {
    context.hub.closeAll("shutdown");
    done();
  });
}
