// Express adapter: `app.post("/webhooks/x", expressReceiver(receiver))`. Takes the raw body
// from express.raw() when it ran, reads the stream itself otherwise, and reports a body that
// a JSON/urlencoded parser already consumed as `body.not_raw` instead of failing verification.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HeraldError } from "../../core/errors.js";
import { RAW_BODY_HINT } from "../../signing/body.js";
import { withProtoHeader } from "../../signing/headers.js";
import { declaredTooLarge, errorResponse, tooLargeResponse } from "../responses.js";
import type { Receiver } from "../types.js";
import { readBodyCapped, requestUrl, sendResponse } from "./nodeIo.js";

/** The parts of Express's request this adapter uses; Express's own Request satisfies it. */
export type ExpressLikeRequest = IncomingMessage & {
  body?: unknown;
  originalUrl?: string;
  protocol?: string;
};
export type ExpressLikeNext = (error?: unknown) => void;

export interface ExpressReceiverOptions {
  /** The origin senders call (`https://api.example.com`), when a proxy changes it (twilio signs the URL). */
  publicUrl?: string;
}

export type ExpressWebhookMiddleware = (
  req: ExpressLikeRequest,
  res: ServerResponse,
  next: ExpressLikeNext,
) => Promise<void>;

export function expressReceiver(
  receiver: Receiver,
  { publicUrl }: ExpressReceiverOptions = {},
): ExpressWebhookMiddleware {
  const { maxBodyBytes } = receiver;
  return async function expressWebhookReceiver(req, res, next) {
    try {
      let body: Buffer | undefined;
      if (Buffer.isBuffer(req.body)) {
        body = req.body;
        if (body.byteLength > maxBodyBytes)
          return sendResponse(res, tooLargeResponse(maxBodyBytes));
      } else if (req.readableEnded) {
        // express.json() / urlencoded() / text() read the stream and kept only their parse.
        return next(
          new HeraldError(
            "body.not_raw",
            "expressReceiver needs the raw request body, but a body parser already consumed it: " +
              "register the webhook route before app.use(express.json()), or use express.raw() " +
              `on it. ${RAW_BODY_HINT}`,
            { details: { parsed: typeof req.body } },
          ),
        );
      } else {
        if (declaredTooLarge(req.headers["content-length"], maxBodyBytes)) {
          return sendResponse(res, tooLargeResponse(maxBodyBytes));
        }
        try {
          body = await readBodyCapped(req, maxBodyBytes);
        } catch {
          return sendResponse(res, errorResponse(400, "body.incomplete", "The body was cut short"));
        }
        if (body === undefined) return sendResponse(res, tooLargeResponse(maxBodyBytes));
      }
      const url = requestUrl(req, req.originalUrl, publicUrl, req.protocol);
      sendResponse(
        res,
        await receiver.handle({ headers: withProtoHeader(req.headers, req.rawHeaders), body, url }),
      );
    } catch (error) {
      next(error);
    }
  };
}
