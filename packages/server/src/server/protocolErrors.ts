// Requests that never reach a route — malformed HTTP, headers too large, a request that takes
// too long, an unknown Expect, an HTTP/1.1 request without Host — answered in the same error
// shape as everything else, `{"error":{"code","message"}}`, instead of Node's or Fastify's own
// bodies. Each is answered and the connection closed: the parser's state after such an error
// cannot be trusted for a next request.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody, sendError } from "./httpErrors.js";

interface ProtocolAnswer {
  status: number;
  code: string;
  message: string;
}

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  414: "URI Too Long",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
};

/** The answer to one of Node's client errors (its llhttp parser codes and timeouts). */
export function clientErrorAnswer(code: string | undefined): ProtocolAnswer {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        code: "header.too_large",
        message: "The request's headers are larger than the server accepts",
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "ERR_HTTP_HEADERS_TIMEOUT":
      return {
        status: 408,
        code: "request.timeout",
        message: "The request did not arrive in time",
      };
    case "HPE_URI_TOO_LONG":
      return { status: 414, code: "url.too_long", message: "The request URL is too long" };
    default:
      return {
        status: 400,
        code: "request.malformed",
        message: "The request is not valid HTTP/1.1",
      };
  }
}

function rawResponse(answer: ProtocolAnswer): string {
  const body = JSON.stringify(errorBody(answer.code, answer.message));
  return (
    `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? "Error"}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

/** Fastify's `clientErrorHandler`: write the answer on the socket if it can still be written. */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) {
    // A response already started on this socket (a pipelined request's timeout) cannot be
    // followed by another one: only close then.
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
      ?.headersSent;
    if (started !== true) socket.end(rawResponse(clientErrorAnswer(error.code)));
  }
  socket.destroySoon();
}

/** Node's `checkExpectation` event: any Expect other than 100-continue. */
function refuseExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(
    errorBody("expectation.unsupported", "Only Expect: 100-continue is supported"),
  );
  response.writeHead(417, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  response.end(body);
}

/**
 * Installs the Expect handler on the app's server and an onRequest hook for HTTP/1.1 requests
 * without Host (Node's own check is turned off in the server options so this one answers).
 */
export function installProtocolChecks(app: FastifyInstance): void {
  app.server.on("checkExpectation", refuseExpectation);
  app.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done) => {
    const raw = request.raw;
    if (raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1 && !raw.headers.host) {
      reply.header("connection", "close");
      void sendError(reply, "request.malformed", "An HTTP/1.1 request must have a Host header");
      return;
    }
    done();
  });
}
