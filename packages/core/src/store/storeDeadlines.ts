// How long anything may wait for the database, all derived from one setting (herald.yaml
// `server.request_deadline_ms`): the HTTP side's answer deadline and store waits, and the
// PostgreSQL connections' server- and client-side timeouts. Each limit is decided here, once.
//
// Why 8 s by default: providers give up on a webhook after 10 s (GitHub, and the hardening
// issue's measurement) and retry; answering 503 before that leaves ~2 s for the network, TLS and
// proxies in front of Herald, so the provider sees a clear "try again" instead of a timeout.
// Healthy PostgreSQL answers an ingestion batch in milliseconds; only a database that is stuck
// (frozen, partitioned, locked) comes near it. Lower it for providers that wait less (Slack
// 3 s, Shopify 5 s): a 503 or a timeout are both retried, and retries are deduplicated.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export const DEFAULT_REQUEST_DEADLINE_MS = 8_000;
/** Below this, ordinary load (a batch queued behind others, an fsync stall) would answer 503. */
export const MIN_REQUEST_DEADLINE_MS = 500;
/** Fastify's request timeout (src/server/app.ts) is 60 s; no provider waits that long. */
export const MAX_REQUEST_DEADLINE_MS = 60_000;

/** PostgreSQL connection limits (createPgPool). */
export interface PgTimeouts {
  /** Server side: a statement running longer is cancelled (SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** Server side: a session idle inside a transaction longer is ended, its locks released. */
  idleInTransactionMs: number;
  /**
   * Client side: a query without any answer for this long fails ("Query read timeout") and its
   * connection is closed — the only limit that holds when the server is frozen, as the server's
   * own timers do not run then and its kernel still acknowledges (TCP keepalive sees nothing).
   */
  queryTimeoutMs: number;
  /** Client side: getting a connection (waiting for a free one, connecting, start-up). */
  connectTimeoutMs: number;
}

export interface StoreDeadlines {
  /** An HTTP request that waits for the store is answered (503 store.unavailable) by then. */
  requestMs: number;
  /**
   * The longest an HTTP request waits for one store call or for its ingestion batch: a little
   * under `requestMs`, so the request's own handler answers the 503 (metrics, logs as usual),
   * and the request-wide deadline is the backstop.
   */
  storeWaitMs: number;
  /** `Retry-After` of a 503: retrying sooner mostly meets the same stuck store. */
  retryAfterS: number;
  pg: PgTimeouts;
}

/** The limits for a request deadline; HeraldError config.invalid outside the allowed range. */
export function storeDeadlines(requestMs: number = DEFAULT_REQUEST_DEADLINE_MS): StoreDeadlines {
  if (
    !Number.isInteger(requestMs) ||
    requestMs < MIN_REQUEST_DEADLINE_MS ||
    requestMs > MAX_REQUEST_DEADLINE_MS
  ) {
    throw new HeraldError(
      "config.invalid",
      `The request deadline must be a whole number of milliseconds from ${MIN_REQUEST_DEADLINE_MS} to ${MAX_REQUEST_DEADLINE_MS}, not ${requestMs}`,
    );
  }
  return {
    requestMs,
    storeWaitMs: Math.round(requestMs * 0.9),
    retryAfterS: Math.ceil(requestMs / 1000),
    pg: {
      // No request waits longer than the deadline, so nothing is gained by letting a statement
      // run on (the worker's statements take milliseconds too). Herald never idles inside a
      // transaction: one idle that long has lost its client (frozen or partitioned) and holds
      // row locks (dedupe keys, deliveries) other writers wait for.
      statementTimeoutMs: requestMs,
      idleInTransactionMs: requestMs,
      // Later than the server's own statement timeout, so a live but slow server cancels the
      // statement itself (a clean error) before the client gives up on the connection.
      queryTimeoutMs: requestMs + 1_000,
      connectTimeoutMs: requestMs,
    },
  };
}
