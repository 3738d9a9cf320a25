// Raw-body guard: signatures cover the exact bytes on the wire, so a parsed object is refused
// with an error that names the usual cause (a JSON body parser ran first).
import { HeraldError } from "../core/errors.js";
import type { RawBody } from "./types.js";

export const RAW_BODY_HINT =
  "Signatures cover the exact bytes received. A JSON body parser (express.json(), " +
  "Fastify's default parser, request.json()) ran before verification and re-serialising its " +
  "result changes those bytes. Pass the raw body instead: a string or Uint8Array/Buffer " +
  "(express.raw({ type: '*/*' }), `await request.text()`, or a Herald adapter, which does it for you).";

export function toBodyBytes(body: RawBody | unknown): Uint8Array {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  const kind = body === null ? "null" : Array.isArray(body) ? "array" : typeof body;
  throw new HeraldError(
    "body.not_raw",
    `The body must be the raw request body, got ${kind}. ${RAW_BODY_HINT}`,
    {
      details: { received: kind },
    },
  );
}
