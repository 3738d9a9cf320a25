// The target of a WebSocket endpoint: an absolute ws:// or wss:// URL. No I/O and no `ws`, so the
// service checks endpoints without loading the client.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/**
 * Throws HeraldError("request.invalid", "url: must be …", { details: { field: "url" } }) for a
 * target that is not an absolute `ws://` or `wss://` URL without a fragment (never echoing it).
 */
export function checkWebSocketTarget(target: string): void {
  parseWebSocketTarget(target);
}

/** The URL of a valid target; throws like `checkWebSocketTarget`. */
export function parseWebSocketTarget(target: string): URL {
  let url: URL | undefined;
  try {
    url = /\s/.test(target) ? undefined : new URL(target);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
    throw new HeraldError("request.invalid", "url: must be an absolute ws:// or wss:// URL", {
      details: { field: "url" },
    });
  }
  if (url.hash !== "" || target.includes("#")) {
    throw new HeraldError("request.invalid", "url: must not have a #fragment (WebSocket URLs)", {
      details: { field: "url" },
    });
  }
  if (url.hostname === "") {
    throw new HeraldError("request.invalid", "url: must name a host", {
      details: { field: "url" },
    });
  }
  return url;
}
