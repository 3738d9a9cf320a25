// The listener side of Herald's WebSocket transport, for Node: verifies each delivery frame's
// signature like a webhook (Standard Webhooks), runs the handler, and answers `ack` when it
// returned, `nack` with `retry: true` when it threw, `nack` with `retry: false` for a frame
// whose signature does not verify (or a DeliveryRejection thrown by the handler).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import {
  frameText,
  type ListenerFrame,
  MAX_NACK_ERROR_CHARS,
  parseDeliveryFrame,
} from "../core/websocketFrames.js";

/** One delivery as the handler gets it, after its signature verified. */
export interface HeraldDelivery {
  /** The delivery id (`dlv_…`), the same on every retry of it. */
  id: string;
  /** The message id (`msg_…`, the `webhook-id` header): deduplicate on it (at-least-once). */
  messageId: string;
  eventType: string;
  /** 1, 2, … since the delivery was created or last replayed. */
  attempt: number;
  /** Lowercase names, signature headers included. */
  headers: Readonly<Record<string, string>>;
  /** The exact JSON text that was signed. */
  body: string;
  /** `JSON.parse(body)`. */
  payload: unknown;
}

/** Thrown by a handler to refuse a delivery for good: Herald dead-letters it, no retry. */
export class DeliveryRejection extends Error {
  override readonly name = "DeliveryRejection";
}

export interface HeraldSocketOptions {
  /** The endpoint's signing secret(s), `whsec_…`; several while a rotation is under way. */
  secret: string | readonly string[];
  /** Returning (or resolving) acks the delivery; throwing nacks it (retried unless a DeliveryRejection). */
  onDelivery(delivery: HeraldDelivery): unknown;
  /** Allowed distance of `webhook-timestamp` from now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Sees what the handler threw, after the nack was sent; throwing here does nothing. */
  onError?(error: unknown, delivery: HeraldDelivery): void;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text === "" ? "handler failed" : text).slice(0, MAX_NACK_ERROR_CHARS);
}

/**
 * Serves Herald on one accepted WebSocket: every `delivery` text frame is verified, handled and
 * answered by its id. Frames are handled as they arrive, several at once; other frames are
 * ignored.
 */
export function handleHeraldSocket(socket: WebSocket, options: HeraldSocketOptions): void {
  const secrets = typeof options.secret === "string" ? [options.secret] : [...options.secret];
  const answer = (frame: ListenerFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(frameText(frame));
  };
  socket.on("message", (data, isBinary) => {
    if (isBinary) return;
    const frame = parseDeliveryFrame(rawText(data));
    if (frame === null) return;
    let verdict: ReturnType<typeof verifyWebhook>;
    try {
      verdict = verifyWebhook({
        scheme: "standard",
        secrets,
        headers: frame.headers,
        body: frame.body,
        ...(options.toleranceSeconds === undefined
          ? {}
          : { toleranceSeconds: options.toleranceSeconds }),
      });
    } catch (error) {
      // The listener's own set-up (e.g. a bad tolerance), not the delivery: try again later.
      answer({ type: "nack", id: frame.id, retry: true, error: `listener: ${errorText(error)}` });
      return;
    }
    if (!verdict.ok) {
      answer({ type: "nack", id: frame.id, retry: false, error: `signature: ${verdict.code}` });
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(frame.body);
    } catch {
      answer({ type: "nack", id: frame.id, retry: false, error: "body: not JSON" });
      return;
    }
    const delivery: HeraldDelivery = {
      id: frame.id,
      messageId: frame.message_id,
      eventType: frame.event_type,
      attempt: frame.attempt,
      headers: frame.headers,
      body: frame.body,
      payload,
    };
    void (async () => {
      try {
        await options.onDelivery(delivery);
      } catch (error) {
        const retry = !(error instanceof DeliveryRejection);
        answer({ type: "nack", id: frame.id, retry, error: errorText(error) });
        try {
          options.onError?.(error, delivery);
        } catch {
          // a failing error hook changes nothing
        }
        return;
      }
      answer({ type: "ack", id: frame.id });
    })();
  });
}

export interface WebSocketListenerOptions extends HeraldSocketOptions {
  /** Port to listen on (0: any free one); ignored with `server`. Default 0. */
  port?: number;
  /** Address to listen on; ignored with `server`. Default 127.0.0.1. */
  host?: string;
  /** An HTTP server of the application to attach to (its upgrade requests on `path`). */
  server?: Server;
  /** Only upgrades to this path are accepted. Default any path. */
  path?: string;
  /** Largest frame accepted from Herald, in bytes. Default 16 MiB. */
  maxPayloadBytes?: number;
}

export interface WebSocketListener {
  /** `ws://host:port` (plus `path`) to give Herald as the endpoint's URL. */
  readonly url: string;
  readonly port: number;
  /** Closes every connection (1001) and stops listening; an attached `server` stays open. */
  close(): Promise<void>;
}

/** A WebSocket server that serves every connection with `handleHeraldSocket`. */
export async function createWebSocketListener(
  options: WebSocketListenerOptions,
): Promise<WebSocketListener> {
  const host = options.host ?? "127.0.0.1";
  const maxPayload = options.maxPayloadBytes ?? 16 * 1024 * 1024;
  const common = { maxPayload, perMessageDeflate: false, path: options.path };
  const wss =
    options.server === undefined
      ? new WebSocketServer({ ...common, port: options.port ?? 0, host })
      : new WebSocketServer({ ...common, server: options.server });
  wss.on("connection", (socket) => handleHeraldSocket(socket, options));
  const listening = options.server ?? wss;
  if (options.server === undefined || !options.server.listening) {
    await new Promise<void>((resolve, reject) => {
      listening.once("listening", resolve);
      listening.once("error", reject);
    });
  }
  const address = (options.server ?? wss).address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `ws://${shown}:${address.port}${options.path ?? ""}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.close(1001, "listener closing");
        wss.close(() => resolve());
        // Clients that do not answer the close frame are cut after a second.
        setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, 1000).unref();
      }),
  };
}
