// The HTTP side of a graceful stop, bounded. Fastify's close() stops listening, closes the
// connections idle at that moment and waits for every other one to end. A kept-alive
// connection whose request was still being answered then stays open until the client closes it
// or its keep-alive timeout (72 s) passes, and a connection the client never ends (a WebSocket,
// a refused upgrade left half-open) holds the stop forever. So while closing, connections that
// have turned idle (their response sent, a live stream ended) are closed every `sweepMs`, and
// every connection still open after `graceMs`, upgraded or not, is destroyed: by then each
// request has been answered or has run out of its own time (body timeout, request deadline).
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

/** Every connection `server` accepts, until it closes (HTTP and upgraded alike). */
export function trackConnections(server: Server): ReadonlySet<Socket> {
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return open;
}

export interface CloseServerOptions {
  /** After this, the connections still open are destroyed (their requests cut). */
  graceMs: number;
  /** The server's connections (trackConnections, called before it listened). */
  connections: ReadonlySet<Socket>;
  /** How often connections that turned idle are closed meanwhile. Default 100 ms. */
  sweepMs?: number;
  logger: Pick<Logger, "warn">;
}

/** Closes `app` (its preClose and onClose hooks run as usual) within `graceMs` and a little. */
export async function closeServer(
  app: FastifyInstance,
  options: CloseServerOptions,
): Promise<void> {
  const server = app.server;
  const sweep = setInterval(() => server.closeIdleConnections(), options.sweepMs ?? 100);
  const deadline = setTimeout(() => {
    options.logger.warn(
      { connections: options.connections.size, graceMs: options.graceMs },
      "connections still open when the shutdown grace period ended: closing them",
    );
    for (const socket of options.connections) socket.destroy();
  }, options.graceMs);
  sweep.unref();
  deadline.unref();
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
