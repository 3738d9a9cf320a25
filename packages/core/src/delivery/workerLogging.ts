// Logs for a delivery worker, on pino or any logger of the same shape: one line per typed event,
// scoped by delivery and endpoint.
// Only ids, counts, status codes, times and reason/error text are logged — never secrets,
// signatures, request headers or response bodies (the events do not carry them).
import type { DeliveryEventBase, DeliveryWorkerEventName } from "./deliveryEvents.js";
import type { DeliveryWorker } from "./deliveryWorker.js";

type Level = "debug" | "info" | "warn" | "error";

/** What the worker's logging needs of a logger: a pino `Logger` is one. */
export type WorkerLogger = { [L in Level]: (fields: object, msg: string) => void } & {
  isLevelEnabled(level: Level): boolean;
  child(bindings: Record<string, string>): { [L in Level]: (fields: object, msg: string) => void };
};
type DeliveryEventName = Exclude<DeliveryWorkerEventName, "worker:error">;

/**
 * What each delivery event logs: its level, message and the ONLY fields copied from the
 * event — an allowlist, so nothing an event might carry later leaks into the logs.
 */
const DELIVERY_LINES: Record<DeliveryEventName, { level: Level; msg: string; fields: string[] }> = {
  "delivery:attempt": {
    level: "debug",
    msg: "delivery attempt",
    fields: ["attempt", "succeeded", "statusCode", "durationMs", "outcome", "error"],
  },
  "delivery:succeeded": {
    level: "info",
    msg: "delivery succeeded",
    fields: ["attempt", "statusCode", "durationMs"],
  },
  "delivery:retry_scheduled": {
    level: "warn",
    msg: "delivery retry scheduled",
    fields: ["attempt", "reason", "delayMs", "nextAttemptAt"],
  },
  "delivery:dead_lettered": {
    level: "error",
    msg: "delivery dead-lettered",
    fields: ["attempt", "reason"],
  },
  "delivery:released": {
    level: "debug",
    msg: "delivery released",
    fields: ["attempt", "reason", "nextAttemptAt"],
  },
  "delivery:lease_lost": {
    level: "warn",
    msg: "delivery lease lost",
    fields: ["attempt", "owner"],
  },
  "endpoint:disabled": { level: "warn", msg: "endpoint disabled", fields: ["attempt", "reason"] },
};

/**
 * Logs every event of `worker` on `logger` (attempt/released debug, succeeded info,
 * retry_scheduled/endpoint:disabled/lease_lost warn, dead_lettered/worker:error error), each
 * delivery event on a child scoped by deliveryId, endpointId and messageId. A logger that
 * throws is ignored, like any listener. Returns a function that stops logging.
 */
export function attachWorkerLogger(
  worker: Pick<DeliveryWorker, "on">,
  logger: WorkerLogger,
): () => void {
  const offs: Array<() => void> = [];
  const on: DeliveryWorker["on"] = (name, listener, options) => {
    const off = worker.on(
      name,
      (payload) => {
        try {
          listener(payload);
        } catch {
          // Logging must never affect delivery.
        }
      },
      options,
    );
    offs.push(off);
    return off;
  };

  for (const name of Object.keys(DELIVERY_LINES) as DeliveryEventName[]) {
    const { level, msg, fields } = DELIVERY_LINES[name];
    // Checked per event (the level can change at run time): the worker does not even build an
    // event whose line is disabled, unless someone else listens to it.
    const enabled = () => logger.isLevelEnabled(level);
    on(
      name,
      (event: DeliveryEventBase) => {
        if (!enabled()) return;
        const line: Record<string, unknown> = { event: name };
        const source = event as unknown as Record<string, unknown>;
        for (const field of fields) line[field] = source[field];
        logger
          .child({
            deliveryId: event.deliveryId,
            endpointId: event.endpointId,
            messageId: event.messageId,
          })
          [level](line, msg);
      },
      { enabled },
    );
  }
  on("worker:error", (e) =>
    // Code and message only: an error's details or cause may hold request data.
    logger.error(
      {
        event: "worker:error",
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
