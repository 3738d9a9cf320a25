// `POST /webhooks/:source`: the body stays raw bytes (the signature covers them exactly), so this
// scope replaces every content-type parser with one that only collects the bytes, up to the limit.

import { withProtoHeader } from "@heraldjs/webhooks/internal/signing/headers.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AdmittedIngest, Ingestor, IngestResponse } from "../ingest/ingestor.js";
import type { ServiceMetrics } from "../metrics.js";
import { jsonSchema, responseSchema } from "../routeSchema.js";
import { errorResponse } from "./shapes.js";

interface IngestRouteOptions {
  ingestor: Ingestor;
  metrics: ServiceMetrics;
  bodyLimitBytes: number;
}

const params = z.object({ source: z.string().describe("The source's name") });
const accepted = z.object({
  message_id: z.string(),
  status: z.enum(["accepted", "duplicate"]),
  status_url: z
    .string()
    .describe("Where the message's status is (GET, with the API key): /v1/messages/{message_id}"),
});

const admissions = new WeakMap<FastifyRequest, AdmittedIngest>();
const refusal = (description: string) => ({ ...errorResponse, description });

export async function ingestRoutes(app: FastifyInstance, options: IngestRouteOptions) {
  const { ingestor, metrics, bodyLimitBytes } = options;

  function answer(request: FastifyRequest, reply: FastifyReply, result: IngestResponse) {
    const source = result.knownSource;
    metrics.ingest(source, result.outcome);
    if (result.messageId !== undefined) {
      request.log.info(
        { source, messageId: result.messageId, outcome: result.outcome },
        "webhook received",
      );
    } else if (result.status >= 500) {
      // The sender sees the code and a public message; the underlying text stays in the log.
      request.log.error(
        { source, code: result.code, detail: result.detail },
        result.code === "source.misconfigured"
          ? "webhook not stored: the source cannot verify webhooks; fix its secrets (POST /v1/sources)"
          : "webhook not stored",
      );
    } else {
      request.log.info({ source, code: result.code }, "webhook rejected");
    }
    if (result.status === 413) reply.header("connection", "close");
    const body =
      result.messageId === undefined
        ? result.body
        : { ...result.body, status_url: `/v1/messages/${result.messageId}` };
    return reply.code(result.status).send(body);
  }

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
          "Verifies the source's signature on the raw bytes, deduplicates, and stores the webhook as a message of type `<source>.<type>` with one delivery per matching endpoint. 202 only once it is committed; a seen dedupe key answers 200 with the first message's id. Whatever can be decided without the body (unknown source, content type, missing or malformed signature headers, a required idempotency header) is answered before the body is read, with `Connection: close`.",
        tags: ["ingestion"],
        params: jsonSchema(params),
        response: {
          202: responseSchema(accepted.describe("Stored")),
          200: responseSchema(accepted.describe("Duplicate of an earlier webhook")),
          400: refusal(
            "Refused: an idempotency header missing or invalid, a body that is not valid UTF-8 or JSON or nests too deep, no valid type, a stale or malformed timestamp",
          ),
          401: refusal(
            "Not authentic: a signature missing, malformed or invalid, or credentials missing or wrong (signature.*, credentials.*, id.missing)",
          ),
          403: refusal(
            "The sender's address is not in the source's allow_from (source.sender_not_allowed)",
          ),
          404: refusal("No source has this name (source.not_found)"),
          413: refusal("The body is larger than the limit (body.too_large)"),
          415: refusal("The Content-Type is not JSON or form fields (content_type.unsupported)"),
          503: refusal(
            "Not stored, retry later: the database is unavailable, the server is busy or shutting down, or the source cannot verify webhooks until it is fixed (source.misconfigured)",
          ),
        },
      },
      // Before the body is read: a refusal here costs the server no body bytes.
      onRequest: async (request, reply) => {
        const { source } = request.params as z.infer<typeof params>;
        const host = request.headers.host ?? request.hostname;
        const admission = await ingestor.admit({
          source,
          headers: withProtoHeader(request.headers, request.raw.rawHeaders),
          url: `${request.protocol}://${host}${request.url}`,
          remoteAddress: request.socket.remoteAddress,
        });
        if (admission.ok) {
          admissions.set(request, admission.admitted);
          return;
        }
        return answer(request, reply, admission.response);
      },
    },
    async (request, reply) => {
      const admitted = admissions.get(request);
      if (admitted === undefined) throw new Error("ingest: request was not admitted");
      const body = request.body;
      const result = await ingestor.complete(
        admitted,
        body instanceof Uint8Array ? body : undefined,
      );
      // The request deadline answered 503 meanwhile (../requestDeadline.ts): that answer stands.
      if (reply.sent) return;
      return answer(request, reply, result);
    },
  );
}
