// GET /v1/stream: the live stream as Server-Sent Events. Each event is `id: <cursor>`,
// `event: <type>` and `data: {"id","type","tenant","created_at","payload"}`; a `: ping` comment
// keeps idle connections open, and `retry:` tells browsers how soon to reconnect (EventSource
// then sends Last-Event-ID itself).
import type { ServerResponse } from "node:http";
import type { StreamItem } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import { streamEventToWire } from "../../wire/streamToken.js";
import type { StreamEndReason } from "./streamHub.js";
import { openStreamSession, type StreamContext, type StreamQuery } from "./streamRequest.js";
import type { StreamSink } from "./streamSession.js";

/** The text of one event. */
export function sseEvent(item: StreamItem, eventNames: boolean): string {
  const name = eventNames ? `event: ${item.message.type}\n` : "";
  return `id: ${item.cursor}\n${name}data: ${JSON.stringify(streamEventToWire(item))}\n\n`;
}

function sseSink(raw: ServerResponse, eventNames: boolean): StreamSink {
  return {
    send(item) {
      raw.write(sseEvent(item, eventNames));
    },
    buffered: () => raw.writableLength,
    drained() {
      if (raw.writableLength === 0 || raw.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          raw.off("drain", done);
          raw.off("close", done);
          resolve();
        };
        raw.on("drain", done);
        raw.on("close", done);
      });
    },
    ping() {
      raw.write(": ping\n\n");
      return true;
    },
    end(reason: StreamEndReason) {
      // A client that does not read would never take a graceful end either.
      if (reason === "buffer_full" || reason === "client_closed") raw.destroy();
      else raw.end(`: end ${reason}\n\n`);
    },
  };
}

export async function serveSse(
  context: StreamContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const query = request.query as StreamQuery;
  const session = await openStreamSession(context, query, request.headers);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
    // The token is the credential (no cookies): any origin may read with one.
    "access-control-allow-origin": "*",
    "x-request-id": request.id,
  });
  // The heartbeat keeps the connection active; the server's idle timeout must not end it.
  const socket = request.raw.socket as { setTimeout?: (ms: number) => unknown } | null;
  socket?.setTimeout?.(0);
  raw.on("close", () => session.close("client_closed"));
  // A write racing the client's disconnect fails here, not as an unhandled 'error'.
  raw.on("error", () => session.close("client_closed"));
  raw.write(`retry: ${context.settings.retryMs}\n\n`);
  await session.run(sseSink(raw, query.event_names !== "false"));
}
