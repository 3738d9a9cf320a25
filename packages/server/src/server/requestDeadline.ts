// The request deadline of `herald serve`: whatever the database does (frozen, partitioned, its
// locks held), a request that waits for the store is answered 503 store.unavailable, with a
// Retry-After, within `server.request_deadline_ms` (numbers: ../store/storeDeadlines.ts).
//
// Two layers. The HTTP side's store (storeWithWaitLimit, below) and the ingestion committer
// (GroupCommitOptions.giveUpAfterMs) stop waiting after `storeWaitMs`, a little under the
// deadline, so the handler itself answers the 503 as for any store error; a message whose batch
// was not yet taken is then dropped, never written. And a timer per request answers at the
// deadline whatever the handler still awaits (several slow calls in a row): the backstop.
//
// Waiting ends, the work does not: a batch being written may still commit after its 503. Its
// dedupe key is written in the same statement or transaction, so the sender's retry is answered
// 200 duplicate, never stored twice; and nothing is answered 202 before its commit.

import type { StoreDeadlines } from "@heraldjs/core/internal/store/storeDeadlines.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "./httpErrors.js";

const TIMER = "heraldRequestDeadline";
type WithTimer = { [TIMER]: NodeJS.Timeout | null };

function notAnswered(ms: number): HeraldError {
  return new HeraldError(
    "store.unavailable",
    `The store did not answer within ${ms} ms; try again later`,
  );
}

/** `promise`, or a store.unavailable rejection once `ms` have passed without it settling. */
export function withinStoreWait<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(notAnswered(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The store as the HTTP side sees it: every call that returns a promise rejects with
 * store.unavailable after `ms` without an answer. (The store's own work goes on; PostgreSQL's
 * query timeout ends it.)
 */
export function storeWithWaitLimit<S extends object>(store: S, ms: number): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      let bound = wrapped.get(property);
      if (bound === undefined) {
        bound = (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? withinStoreWait(result, ms) : result;
        };
        wrapped.set(property, bound);
      }
      return bound;
    },
  });
}

/**
 * Adds the per-request backstop and Retry-After on every 503 to `app` (call it before the
 * routes are registered). The deadline counts from when the request has arrived whole (headers
 * and body), as a slow upload is the client's time, not the store's.
 */
export function addRequestDeadline(
  app: FastifyInstance,
  deadlines: Pick<StoreDeadlines, "requestMs" | "retryAfterS">,
): void {
  const { requestMs } = deadlines;
  const retryAfter = String(deadlines.retryAfterS);
  // The timer rides on the reply (a decoration keeps the reply's shape; a WeakMap costs more).
  app.decorateReply(TIMER, null);
  const expire = (request: FastifyRequest, reply: FastifyReply) => {
    if (reply.sent || reply.raw.headersSent || request.raw.destroyed) return;
    request.log.warn({ deadlineMs: requestMs }, "request deadline passed; answered 503");
    sendError(
      reply,
      "store.unavailable",
      `No answer from the store within the request deadline (${requestMs} ms); try again later`,
    );
  };
  // Callback-style hooks: an async hook costs a promise per request.
  app.addHook("preHandler", (request, reply, done) => {
    (reply as unknown as WithTimer)[TIMER] = setTimeout(expire, requestMs, request, reply);
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (reply.statusCode === 503 && !reply.hasHeader("retry-after")) {
      reply.header("retry-after", retryAfter);
    }
    done(null, payload);
  });
  app.addHook("onResponse", (_request, reply, done) => {
    const timer = (reply as unknown as WithTimer)[TIMER];
    if (timer !== null) clearTimeout(timer);
    done();
  });
}
