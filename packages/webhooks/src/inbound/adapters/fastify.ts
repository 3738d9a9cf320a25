// Fastify plugin: `app.register(fastifyReceiver, { receiver, path })`. Inside its own
// encapsulated context every content type is parsed as a raw Buffer (capped at maxBodyBytes),
// so the bytes stay exact on the webhook route while the rest of the app keeps Fastify's JSON
// parser. Typed structurally (the few members of Fastify it uses), so this package needs no
// `fastify` install, not even for its types.
import { withProtoHeader } from "../../signing/headers.js";
import { errorResponse, tooLargeResponse } from "../responses.js";
import type { Receiver, ReceiverResponse } from "../types.js";

type HTTPMethods = "DELETE" | "GET" | "HEAD" | "PATCH" | "POST" | "PUT" | "OPTIONS";

/** What the plugin uses of a Fastify reply. */
export interface FastifyLikeReply {
  code(statusCode: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload?: string): FastifyLikeReply;
}

/** What the plugin uses of a Fastify request. */
export interface FastifyLikeRequest {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  protocol: string;
  host: string;
  url: string;
  raw: { rawHeaders: string[] };
}

/** What the plugin uses of the Fastify instance it is registered on. */
export interface FastifyLikeInstance {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: "buffer"; bodyLimit: number },
    parser: (request: unknown, body: Buffer, done: (error: null, body: Buffer) => void) => void,
  ): void;
  setErrorHandler(
    handler: (error: Error, request: unknown, reply: FastifyLikeReply) => FastifyLikeReply,
  ): unknown;
  route(options: {
    method: HTTPMethods | HTTPMethods[];
    url: string;
    bodyLimit: number;
    handler(request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<FastifyLikeReply>;
  }): unknown;
}

/** A Fastify plugin (`app.register(fastifyReceiver, options)`). */
export type FastifyLikePlugin<Options> = (
  instance: FastifyLikeInstance,
  options: Options,
  done: (error?: Error) => void,
) => void;

export interface FastifyReceiverOptions {
  receiver: Receiver;
  /** The route, relative to any prefix the plugin is registered with. */
  path: string;
  /** Default POST. */
  method?: HTTPMethods | HTTPMethods[];
  /** The origin senders call (`https://api.example.com`), when a proxy changes it (twilio signs the URL). */
  publicUrl?: string;
}

function isFastifyError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

export const fastifyReceiver: FastifyLikePlugin<FastifyReceiverOptions> = function fastifyReceiver(
  app,
  { receiver, path, method = "POST", publicUrl },
  done,
) {
  const { maxBodyBytes } = receiver;
  // Only this plugin's context: routes registered elsewhere keep their parsers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: maxBodyBytes },
    (_request, body, parsed) => parsed(null, body),
  );

  app.setErrorHandler((error, _request, reply) => {
    // Fastify refuses an oversize body itself (Content-Length first, then while streaming);
    // answer it in Herald's shape. Anything else goes to the application's error handler.
    let response: ReceiverResponse | undefined;
    if (isFastifyError(error) && error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      response = tooLargeResponse(maxBodyBytes);
    } else if (isFastifyError(error) && error.code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH") {
      response = errorResponse(
        400,
        "body.incomplete",
        "The body does not match its Content-Length",
      );
    }
    if (response === undefined) throw error;
    return reply.code(response.status).headers(response.headers).send(response.body);
  });

  app.route({
    method,
    url: path,
    bodyLimit: maxBodyBytes,
    async handler(request, reply) {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const url =
        publicUrl === undefined
          ? `${request.protocol}://${request.host}${request.url}`
          : publicUrl.replace(/\/+$/, "") + request.url;
      const response = await receiver.handle({
        headers: withProtoHeader(request.headers, request.raw.rawHeaders),
        body,
        url,
      });
      return reply.code(response.status).headers(response.headers).send(response.body);
    },
  });
  done();
};
