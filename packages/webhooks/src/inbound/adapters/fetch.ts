// Fetch adapter: `(request: Request) => Promise<Response>` for Hono (`c.req.raw`), Next.js
// route handlers, Deno, Bun and workers. Reads the body stream itself under the size cap.
import { declaredTooLarge, errorResponse, tooLargeResponse } from "../responses.js";
import type { Receiver, ReceiverResponse } from "../types.js";

export type FetchWebhookHandler = (request: Request) => Promise<Response>;

/** The whole body, or `undefined` as soon as it grows past the cap (the rest is never read). */
async function readCapped(request: Request, maxBodyBytes: number): Promise<Uint8Array | undefined> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function toResponse({ status, headers, body }: ReceiverResponse): Response {
  return new Response(body, { status, headers });
}

export function toFetchHandler(receiver: Receiver): FetchWebhookHandler {
  const { maxBodyBytes } = receiver;
  return async function fetchWebhookHandler(request) {
    if (declaredTooLarge(request.headers.get("content-length"), maxBodyBytes)) {
      return toResponse(tooLargeResponse(maxBodyBytes));
    }
    let body: Uint8Array | undefined;
    try {
      body = await readCapped(request, maxBodyBytes);
    } catch {
      return toResponse(errorResponse(400, "body.incomplete", "The body was cut short"));
    }
    if (body === undefined) return toResponse(tooLargeResponse(maxBodyBytes));
    return toResponse(await receiver.handle({ headers: request.headers, body, url: request.url }));
  };
}
