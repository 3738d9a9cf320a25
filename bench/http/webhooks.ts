// Distinct signed webhooks for the ingest benchmarks, built before a timed run: each has its own
// webhook-id (so Herald's dedupe never answers 200 on its cheaper path) and a 1 KiB JSON body
// signed with the Standard Webhooks scheme.
import { randomBytes } from "node:crypto";
import { signWebhook } from "../../packages/webhooks/src/index.js";
import type { PooledRequest } from "./load.js";

export const EVENT_TYPE = "order.created";

export function newStandardSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** A JSON body of exactly `bytes` bytes (ASCII) naming `id` and the event type. */
export function webhookBody(id: string, bytes: number): Buffer {
  const head = { type: EVENT_TYPE, id, data: { object: { id: `ord_${id}`, amount: 4200 } } };
  const empty = JSON.stringify({ ...head, pad: "" });
  const pad = "x".repeat(Math.max(0, bytes - empty.length));
  return Buffer.from(JSON.stringify({ ...head, pad }));
}

/**
 * `count` distinct signed webhooks, ids `msg_<prefix>_<n>`, timestamped now (inside any
 * source's tolerance for the minutes a run takes).
 */
export function signedPool(
  secret: string,
  count: number,
  options: { prefix: string; bodyBytes?: number },
): PooledRequest[] {
  const bytes = options.bodyBytes ?? 1024;
  const timestamp = Math.floor(Date.now() / 1000);
  const pool: PooledRequest[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const id = `msg_${options.prefix}_${i}`;
    const body = webhookBody(id, bytes);
    pool[i] = {
      body,
      headers: {
        "content-type": "application/json",
        ...signWebhook({ scheme: "standard", secret, id, timestamp, body }),
      },
    };
  }
  return pool;
}
