// GET /v1/stream/ws: the live stream over WebSocket, taken over from the HTTP server's
// 'upgrade' event. The request is checked (token, last id, types) and the stream attached
// before the upgrade, so a refusal is a plain HTTP answer in the error shape. Frames are
// `{"id":<cursor>,"message_id","type","tenant","created_at","payload"}`; the server pings and
// ends a connection whose previous ping went unanswered.
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance } from "fastify";
import type { WebSocket, WebSocketServer } from "ws";
import { streamEventToWire } from "../../wire/streamToken.js";
import { errorBody, publicMessage, statusForCode } from "../httpErrors.js";
import type { StreamEndReason } from "./streamHub.js";
import { openStreamSession, type StreamContext, streamQuery } from "./streamRequest.js";
import type { StreamSink } from "./streamSession.js";

export const STREAM_WS_PATH = "/v1/stream/ws";

/**
 * Close codes: 4001 the token no longer opens streams (do not reconnect with it); others
 * standard. buffer_full, heartbeat_timeout and client_closed end with terminate() instead.
 */
const CLOSE_CODES: Record<StreamEndReason, number> = {
  client_closed: 1000,
  replay_done: 1000,
  shutdown: 1001,
  store_error: 1011,
  token_revoked: 4001,
  token_expired: 4001,
  buffer_full: 1008,
  heartbeat_timeout: 1001,
};

function wsSink(ws: WebSocket): StreamSink {
  let awaitingPong = false;
  ws.on("pong", () => {
    awaitingPong = false;
  });
  return {
    send(item) {
      const { id, ...event } = streamEventToWire(item);
      ws.send(JSON.stringify({ id: item.cursor, message_id: id, ...event }));
    },
    buffered: () => ws.bufferedAmount,
    drained() {
      return new Promise((resolve) => {
        const check = () => {
          if (ws.bufferedAmount === 0 || ws.readyState !== ws.OPEN) resolve();
          else setTimeout(check, 10);
        };
        check();
      });
    },
    ping() {
      if (awaitingPong) return false;
      awaitingPong = true;
      ws.ping();
      return true;
    },
    end(reason) {
      if (
        reason === "buffer_full" ||
        reason === "heartbeat_timeout" ||
        reason === "client_closed"
      ) {
        ws.terminate();
      } else {
        ws.close(CLOSE_CODES[reason], reason);
        // A client that never answers the close frame does not hold the connection (or a stop).
        setTimeout(() => ws.terminate(), 1000).unref();
      }
    },
  };
}

/**
 * An HTTP answer on the raw socket, in the error shape, then the end of the connection: the
 * socket is destroyed once the answer is written, so a client that keeps its side open does
 * not hold the connection (or a stop of the server).
 */
function refuse(socket: Duplex, error: HeraldError): void {
  const status = statusForCode(error.code);
  const body = JSON.stringify(
    errorBody(error.code, publicMessage(error.code, status, error.message)),
  );
  const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="herald"\r\n' : "";
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** Takes WebSocket upgrades of `app`'s server: /v1/stream/ws, and refuses any other path. */
export function installWebSocketStreams(app: FastifyInstance, context: StreamContext): void {
  let server: WebSocketServer | undefined;
  let closing = false;
  const sockets = new Set<Duplex>();

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const url = new URL(request.url ?? "/", "http://herald.invalid");
    if (url.pathname !== STREAM_WS_PATH) {
      return refuse(socket, new HeraldError("route.not_found", `No WebSocket at ${url.pathname}`));
    }
    if (closing) {
      return refuse(socket, new HeraldError("server.shutting_down", "The server is shutting down"));
    }
    let session: Awaited<ReturnType<typeof openStreamSession>>;
    try {
      // Loaded on the first upgrade only: a service without WebSocket clients never loads ws.
      if (server === undefined) {
        const { WebSocketServer } = await import("ws");
        server ??= new WebSocketServer({ noServer: true, maxPayload: 4096 });
      }
      const parsed = streamQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success) {
        throw new HeraldError(
          "request.invalid",
          parsed.error.issues.map((i) => `query.${i.path.join(".")}: ${i.message}`).join("; "),
        );
      }
      session = await openStreamSession(context, parsed.data, request.headers);
    } catch (error) {
      const herald = coerceError(error);
      if (herald.code === "internal") context.logger.error({ err: error }, "stream upgrade failed");
      return refuse(socket, herald);
    }
    if (socket.destroyed || closing) {
      session.close(closing ? "shutdown" : "client_closed");
      socket.destroy();
      return;
    }
    server.handleUpgrade(request, socket, head, (ws) => {
      sockets.delete(socket);
      ws.on("close", () => session.close("client_closed"));
      ws.on("error", () => session.close("client_closed"));
      void session.run(wsSink(ws));
    });
  }

  app.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(request, socket, head);
  });
  // Connections still being upgraded when the server closes (open streams are ended by the hub).
  app.addHook("preClose", (done) => {
    closing = true;
    for (const socket of sockets) socket.destroy();
    done();
  });
}
