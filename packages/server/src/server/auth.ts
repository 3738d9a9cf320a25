// Bearer API key for the management API, compared in constant time (both sides hashed to one
// length first, so neither the key's length nor its prefix leaks through timing).
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "./httpErrors.js";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** An onRequest hook that answers 401 unless `Authorization: Bearer <apiKey>` matches. */
export function bearerAuth(apiKey: string) {
  const expected = digest(apiKey);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    const given = match?.[1];
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
    reply.header("www-authenticate", 'Bearer realm="herald"');
    return sendError(
      reply,
      "auth.unauthorized",
      given === undefined
        ? "Send the API key as Authorization: Bearer <key>"
        : "The API key is not valid",
    );
  };
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
