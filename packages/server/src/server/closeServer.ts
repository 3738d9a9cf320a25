// The HTTP side of a graceful stop, bounded. Fastify's close() stops listening, closes the
// connections idle at that moment and waits for every other one to end. A kept-alive
// connection whose request was still being answered then stays open until the client closes it
// or its keep-alive timeout (72 s) passes, and a connection the client never ends holds the
// stop forever. So while closing, connections that have turned idle (their response sent, a
// live stream ended) are closed every `sweepMs`, and whatever is still open after `graceMs`
// is closed: by then every request has been answered or has run out of its own time (body
// timeout, request deadline).
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

export interface CloseServerOptions {
  /** After this, the connections still open are closed (their requests cut). */
  graceMs: number;
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
    server.getConnections((_error, count) => {
      options.logger.warn(
        { connections: count, graceMs: options.graceMs },
        "connections still open when the shutdown grace period ended: closing them",
      );
    });
    server.closeAllConnections();
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
