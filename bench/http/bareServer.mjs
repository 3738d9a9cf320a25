// The baseline of the ingest benchmarks, run as its own process: a bare Fastify 5 route that
// parses the JSON body with Fastify's default parser and answers 202 {"status":"accepted"}.
// Configured as Fastify's documentation recommends for production: logger off, a response
// schema (fast-json-stringify), listening on one address. Prints `listening <url>` on stdout.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post(
  "/webhooks/:source",
  {
    schema: {
      response: {
        202: { type: "object", properties: { status: { type: "string" } } },
      },
    },
  },
  async (request, reply) => {
    if (typeof request.body !== "object" || request.body === null) {
      return reply.code(400).send({ status: "invalid" });
    }
    return reply.code(202).send({ status: "accepted" });
  },
);
const url = await app.listen({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
process.stdout.write(`listening ${url}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
