// Bounds on request bodies that no single route can forget: the bytes of all bodies being
// received at once (a budget shared by every connection, a declared length reserved before any
// of it is read; beyond it 503 `server.busy` with Retry-After), and the time one body may take to arrive (408 `body.timeout`). Together with the
// per-request body limit (413) they bound the memory stalled or trickling uploads can hold,
// whoever sends them. Requests refused before their body was read are answered with
// `Connection: close`, so the rest of the body is never read.
import type { Socket } from "node:net";
import { Transform, type TransformCallback } from "node:stream";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

interface BodyBudgetOptions {
  /** Most body bytes held by all requests together. */
  maxInFlightBytes: number;
  /** The largest single body (Fastify refuses larger ones itself, before reading them). */
  bodyLimitBytes: number;
  /** Most time from the first byte read of a body to its last. */
  bodyTimeoutMs: number;
  /** Seconds a client is told to wait (Retry-After) when the budget is spent. Default 1. */
  retryAfterS?: number;
}

interface BodyBudget {
  /** Body bytes currently held (received and not yet answered). */
  readonly inFlightBytes: number;
}

function busy(retryAfterS: number): HeraldError {
  return new HeraldError(
    "server.busy",
    `Too many request bodies are being received at once; retry in ${retryAfterS} s`,
    { details: { retryAfterS } },
  );
}

/** The declared body length; 0 for none; undefined for a chunked body of unknown length. */
function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers["content-length"];
  if (header !== undefined) {
    const length = Number(header);
    return Number.isSafeInteger(length) && length >= 0 ? length : 0;
  }
  return request.headers["transfer-encoding"] === undefined ? 0 : undefined;
}

/**
 * Counts the bytes of one body into the shared budget as they arrive, fails the body when the
 * budget is spent or the deadline passes (the error reaches Fastify's body reader, which
 * answers it through the error handler while the connection is still writable), and gives the
 * bytes back when the response is over.
 */
class MeteredBody extends Transform {
  readonly #take: (bytes: number) => boolean;
  readonly #busy: () => HeraldError;
  readonly #timer: NodeJS.Timeout;

  constructor(take: (bytes: number) => boolean, makeBusy: () => HeraldError, timeoutMs: number) {
    super();
    this.#take = take;
    this.#busy = makeBusy;
    this.#timer = setTimeout(() => {
      this.destroy(
        new HeraldError("body.timeout", `The request body did not arrive within ${timeoutMs} ms`, {
          details: { timeoutMs },
        }),
      );
    }, timeoutMs);
    this.#timer.unref();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    if (!this.#take(chunk.length)) {
      callback(this.#busy());
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    clearTimeout(this.#timer);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    clearTimeout(this.#timer);
    callback(error);
  }
}

const ignore = () => {};
const LINGER_MS = 2_000;
const lingering = new WeakSet<Socket>();

type ReadHandle = { readStop?: () => number; readStart?: () => number };

/**
 * Closes a connection after answering a request whose body was not read, without reading the
 * rest of that body: the answer is sent and the sending side shut, reading stops (what the client
 * still sends stays in the kernel's buffers), and the socket is destroyed LINGER_MS later. Node
 * would either destroy it at once — the kernel then resets the connection, and a reset can drop
 * the answer before a client that is still writing reads it — or read and drop the whole body,
 * which for 300 hostile 2 MiB uploads is 600 MB of buffers to collect. Node's HTTP server closes
 * a `Connection: close` socket with `destroySoon()`, which this replaces on the one socket; its
 * dump of the body would start reading again, so the handle's readStart is disabled too.
 */
function lingerOnClose(socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  let started = false;
  socket.destroySoon = function lingeringDestroySoon(this: Socket) {
    if (started) return;
    started = true;
    const handle = (this as Socket & { _handle?: ReadHandle | null })._handle;
    if (handle !== null && handle !== undefined) {
      handle.readStop?.();
      handle.readStart = () => 0;
    }
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
    this.end();
  };
}

/** Adds the budget's hooks to `app` (call before registering routes: they apply to all). */
export function installBodyBudget(app: FastifyInstance, options: BodyBudgetOptions): BodyBudget {
  const { maxInFlightBytes, bodyTimeoutMs, bodyLimitBytes } = options;
  const retryAfterS = options.retryAfterS ?? 1;
  let inFlight = 0;
  const makeBusy = () => busy(retryAfterS);

  app.addHook("preParsing", (request, reply, payload, done) => {
    const declared = declaredLength(request);
    if (declared === 0) {
      done(null, payload);
      return;
    }
    // Over the body limit: Fastify refuses it (413) before reading a byte.
    if (declared !== undefined && declared > bodyLimitBytes) {
      done(null, payload);
      return;
    }
    // A declared length is reserved whole before any of it is read, so a body that could not
    // be held is refused before it costs anything; a chunked one counts as its bytes arrive.
    if (declared !== undefined && inFlight + declared > maxInFlightBytes) {
      reply.header("retry-after", String(retryAfterS));
      done(makeBusy());
      return;
    }
    let held = declared ?? 0;
    inFlight += held;
    const take =
      declared !== undefined
        ? () => true
        : (bytes: number) => {
            if (inFlight + bytes > maxInFlightBytes) {
              reply.header("retry-after", String(retryAfterS));
              return false;
            }
            inFlight += bytes;
            held += bytes;
            return true;
          };
    const metered = new MeteredBody(take, makeBusy, bodyTimeoutMs);
    // Fastify's body reader listens for the stream's error while it reads; once it has given up
    // (413, a bad length) a later error — the deadline's — must not become an uncaught one.
    metered.on("error", ignore);
    payload.on("error", (error) => metered.destroy(error));
    payload.pipe(metered);
    // The bytes stay in memory until the answer is sent (the handler holds the body).
    reply.raw.once("close", () => {
      inFlight -= held;
      held = 0;
      // Answered: the deadline no longer applies.
      metered.destroy();
    });
    done(null, metered);
  });

  // A request answered before its body was read: close the connection rather than read (and
  // discard) the rest, which a hostile client could make last as long as it likes — but only
  // after a short linger, so a client still writing its body gets to read the answer.
  app.addHook("onSend", (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    if (!request.raw.complete && declaredLength(request) !== 0) {
      reply.header("connection", "close");
      lingerOnClose(request.raw.socket);
    }
    done(null, payload);
  });

  return {
    get inFlightBytes() {
      return inFlight;
    },
  };
}
