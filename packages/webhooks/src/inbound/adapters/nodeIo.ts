// node:http plumbing shared by the node and Express adapters: read a body under a size cap,
// write a receiver response, and rebuild the URL the sender called.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { ReceiverResponse } from "../types.js";

/**
 * Reads the whole body, or resolves `undefined` as soon as it grows past `maxBodyBytes`.
 * On overflow the stream is only paused: destroying it would reset the socket before the 413
 * can be written.
 */
export function readBodyCapped(
  request: IncomingMessage,
  maxBodyBytes: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > maxBodyBytes) {
        cleanup();
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("The request was closed before its body was complete"));
    };
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", onError);
    request.once("close", onClose);
  });
}

export function sendResponse(res: ServerResponse, response: ReceiverResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/**
 * The URL the sender signed (twilio): `publicUrl` (the origin the sender calls, plus any path
 * prefix a proxy strips) followed by the request's path and query; without it, rebuilt from
 * the Host header and the socket.
 */
export function requestUrl(
  request: IncomingMessage,
  path: string | undefined,
  publicUrl: string | undefined,
  protocol?: string,
): string {
  const pathAndQuery = path ?? request.url ?? "/";
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, "") + pathAndQuery;
  const scheme = protocol ?? ((request.socket as TLSSocket).encrypted ? "https" : "http");
  return `${scheme}://${request.headers.host ?? "localhost"}${pathAndQuery}`;
}
