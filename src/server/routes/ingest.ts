// `POST /webhooks/:source`: the body stays raw bytes (the signature covers them exactly), so this
// scope replaces every content-type parser with one that only collects the bytes, up to the limit.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Ingestor } from "../ingest/ingestor.js";
import type { ServiceMetrics } from "../metrics.js";
import { jsonSchema, responseSchema } from "../routeSchema.js";
import { errorResponse } from "./shapes.js";

export interface IngestRouteOptions {
  ingestor: Ingestor;
  metrics: ServiceMetrics;
  bodyLimitBytes: number;
}

const params = z.object({ source: z.string().describe("The source's name") });
const accepted = z.object({
  message_id: z.string(),
  status: z.enum(["accepted", "duplicate"]),
});

export async function ingestRoutes(app: FastifyInstance, options: IngestRouteOptions) {
  const { ingestor, metrics, bodyLimitBytes } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: bodyLimitBytes },
    (_r, body, done) => done(null, body),
  );
  app.post(
    "/webhooks/:source",
    {
      bodyLimit: bodyLimitBytes,
      schema: {
        summary: "Receive a webhook from a source",
        description:
          "Verifies the source's signature on the raw bytes, deduplicates, and stores the webhook as a message of type `<source>.<type>` with one delivery per matching endpoint. 202 only once it is committed; a seen dedupe key answers 200 with the first message's id.",
        tags: ["ingestion"],
        params: jsonSchema(params),
        response: {
          202: responseSchema(accepted.describe("Stored")),
          200: responseSchema(accepted.describe("Duplicate of an earlier webhook")),
          "4xx": errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { source } = request.params as z.infer<typeof params>;
      const body = request.body;
      const host = request.headers.host ?? request.hostname;
      const result = await ingestor.handle({
        source,
        headers: request.headers,
        body: body instanceof Uint8Array ? body : undefined,
        url: `${request.protocol}://${host}${request.url}`,
      });
      // The request deadline answered 503 meanwhile (../requestDeadline.ts): that answer stands.
      if (reply.sent) return;
      metrics.ingest(result.knownSource, result.outcome);
      if (result.messageId !== undefined) {
        request.log.info(
          { source, messageId: result.messageId, outcome: result.outcome },
          "webhook received",
        );
      } else if (result.status >= 500) {
        request.log.error({ source, code: result.code }, "webhook not stored");
      } else {
        request.log.info({ source, code: result.code }, "webhook rejected");
      }
      if (result.status === 413) reply.header("connection", "close");
      return reply.code(result.status).send(result.body);
    },
  );
}
