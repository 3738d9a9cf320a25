// node:http adapter: `http.createServer(toNodeHandler(receiver))`. Reads the raw body itself,
// refusing oversize bodies before any signature work.
import type { IncomingMessage, ServerResponse } from "node:http";
import { withProtoHeader } from "../../signing/headers.js";
import { declaredTooLarge, errorResponse, tooLargeResponse } from "../responses.js";
import type { Receiver } from "../types.js";
import { readBodyCapped, requestUrl, sendResponse } from "./nodeIo.js";

export interface NodeHandlerOptions {
  /** The origin senders call (`https://api.example.com`), when a proxy changes it (twilio signs the URL). */
  publicUrl?: string;
}

export type NodeWebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function toNodeHandler(
  receiver: Receiver,
  { publicUrl }: NodeHandlerOptions = {},
): NodeWebhookHandler {
  const { maxBodyBytes } = receiver;
  return async function nodeWebhookHandler(req, res) {
    if (declaredTooLarge(req.headers["content-length"], maxBodyBytes)) {
      return sendResponse(res, tooLargeResponse(maxBodyBytes));
    }
    let body: Buffer | undefined;
    try {
      body = await readBodyCapped(req, maxBodyBytes);
    } catch {
      // The client went away mid-body; there is usually no one left to answer.
      return sendResponse(res, errorResponse(400, "body.incomplete", "The body was cut short"));
    }
    if (body === undefined) return sendResponse(res, tooLargeResponse(maxBodyBytes));
    const response = await receiver.handle({
      headers: withProtoHeader(req.headers, req.rawHeaders),
      body,
      url: requestUrl(req, undefined, publicUrl),
    });
    sendResponse(res, response);
  };
}
