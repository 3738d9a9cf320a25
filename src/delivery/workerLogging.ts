// Pino logs for a delivery worker: one line per typed event, scoped by delivery and endpoint.
// Only ids, counts, status codes, times and reason/error text are logged — never secrets,
// signatures, request headers or response bodies (the events do not carry them).
import type { Logger } from "pino";
import type { DeliveryEventBase, DeliveryWorkerEventName } from "./deliveryEvents.js";
import type { DeliveryWorker } from "./deliveryWorker.js";

function scoped(logger: Logger, event: DeliveryEventBase): Logger {
  return logger.child({
    deliveryId: event.deliveryId,
    endpointId: event.endpointId,
    messageId: event.messageId,
  });
}

/**
 * Logs every event of `worker` on `logger` (attempt/released debug, succeeded info,
 * retry_scheduled/endpoint:disabled/lease_lost warn, dead_lettered/worker:error error).
 * A logger that throws is ignored, like any listener. Returns a function that stops logging.
 */
export function attachWorkerLogger(worker: Pick<DeliveryWorker, "on">, logger: Logger): () => void {
  const offs: Array<() => void> = [];
  const on: DeliveryWorker["on"] = (name, listener) => {
    const off = worker.on(name, (payload) => {
      try {
        listener(payload);
      } catch {
        // Logging must never affect delivery.
      }
    });
    offs.push(off);
    return off;
  };
  const label = (name: DeliveryWorkerEventName) => ({ event: name });

  on("delivery:attempt", (e) =>
    scoped(logger, e).debug(
      {
        ...label("delivery:attempt"),
        attempt: e.attempt,
        succeeded: e.succeeded,
        statusCode: e.statusCode,
        durationMs: e.durationMs,
        outcome: e.outcome,
        error: e.error,
      },
      "delivery attempt",
    ),
  );
  on("delivery:succeeded", (e) =>
    scoped(logger, e).info(
      {
        ...label("delivery:succeeded"),
        attempt: e.attempt,
        statusCode: e.statusCode,
        durationMs: e.durationMs,
      },
      "delivery succeeded",
    ),
  );
  on("delivery:retry_scheduled", (e) =>
    scoped(logger, e).warn(
      {
        ...label("delivery:retry_scheduled"),
        attempt: e.attempt,
        reason: e.reason,
        delayMs: e.delayMs,
        nextAttemptAt: e.nextAttemptAt,
      },
      "delivery retry scheduled",
    ),
  );
  on("delivery:dead_lettered", (e) =>
    scoped(logger, e).error(
      { ...label("delivery:dead_lettered"), attempt: e.attempt, reason: e.reason },
      "delivery dead-lettered",
    ),
  );
  on("delivery:released", (e) =>
    scoped(logger, e).debug(
      {
        ...label("delivery:released"),
        attempt: e.attempt,
        reason: e.reason,
        nextAttemptAt: e.nextAttemptAt,
      },
      "delivery released",
    ),
  );
  on("delivery:lease_lost", (e) =>
    scoped(logger, e).warn(
      { ...label("delivery:lease_lost"), attempt: e.attempt, owner: e.owner },
      "delivery lease lost",
    ),
  );
  on("endpoint:disabled", (e) =>
    scoped(logger, e).warn(
      { ...label("endpoint:disabled"), attempt: e.attempt, reason: e.reason },
      "endpoint disabled",
    ),
  );
  on("worker:error", (e) =>
    // Code and message only: an error's details or cause may hold request data.
    logger.error(
      {
        ...label("worker:error"),
        deliveryId: e.deliveryId,
        err: { code: e.error.code, message: e.error.message },
      },
      "worker error",
    ),
  );

  return () => {
    for (const off of offs.splice(0)) off();
  };
}
