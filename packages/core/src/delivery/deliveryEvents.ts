// Typed worker events and a tiny emitter whose listeners can never throw into the worker.
import type { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { RetryReason } from "./responseRules.js";

/** What every delivery event names. `attempt` counts attempts since creation or the last replay. */
export interface DeliveryEventBase {
  deliveryId: string;
  endpointId: string;
  messageId: string;
  /** The attempt this event is about (1, 2, …); for events before a send, the attempts made so far. */
  attempt: number;
}

export interface DeliveryWorkerEvents {
  /** One send ended (any outcome); emitted before the delivery's new state is stored. */
  "delivery:attempt": DeliveryEventBase & {
    succeeded: boolean;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    outcome: "success" | "disable_endpoint" | "reject" | "retry";
  };
  "delivery:succeeded": DeliveryEventBase & { statusCode: number | null; durationMs: number };
  "delivery:retry_scheduled": DeliveryEventBase & {
    reason: RetryReason;
    delayMs: number;
    /** ISO 8601. */
    nextAttemptAt: string;
  };
  "delivery:dead_lettered": DeliveryEventBase & { reason: string };
  /** Given back without an attempt: the endpoint's rate or in-flight limit, or shutdown. */
  "delivery:released": DeliveryEventBase & {
    reason: "rate_limited" | "max_in_flight" | "shutdown";
    /** ISO 8601. */
    nextAttemptAt: string;
  };
  /** The lease expired and another worker may hold the delivery: this worker drops it. */
  "delivery:lease_lost": DeliveryEventBase & { owner: string };
  "endpoint:disabled": DeliveryEventBase & { reason: string };
  /** A store or transport failure the worker survived (the delivery stays leased until expiry). */
  "worker:error": { error: HeraldError; deliveryId: string | null };
}

export type DeliveryWorkerEventName = keyof DeliveryWorkerEvents;

export type DeliveryWorkerEvent = {
  [K in DeliveryWorkerEventName]: { name: K; payload: DeliveryWorkerEvents[K] };
}[DeliveryWorkerEventName];

export type DeliveryEventListener<K extends DeliveryWorkerEventName> = (
  payload: DeliveryWorkerEvents[K],
) => void;

export interface DeliveryListenerOptions {
  /**
   * Whether the listener wants events right now (e.g. its log level is enabled), asked by
   * `has()` before an event is built; events are still delivered to it when built for others.
   * Default: always.
   */
  enabled?: () => boolean;
}

interface DeliveryEventEmitter {
  /** Returns a function that removes the listener. */
  on<K extends DeliveryWorkerEventName>(
    name: K,
    listener: DeliveryEventListener<K>,
    options?: DeliveryListenerOptions,
  ): () => void;
  /**
   * Whether anything listens to `name` and wants it now (a listener whose `enabled` says yes,
   * or `onEvent`): skip building an unseen event.
   */
  has(name: DeliveryWorkerEventName): boolean;
  /** Calls every listener; a listener that throws is skipped, never the worker's problem. */
  emit<K extends DeliveryWorkerEventName>(name: K, payload: DeliveryWorkerEvents[K]): void;
}

/** `onEvent` sees every event after the named listeners. */
export function createDeliveryEventEmitter(
  onEvent?: (event: DeliveryWorkerEvent) => void,
): DeliveryEventEmitter {
  const listeners = new Map<DeliveryWorkerEventName, Set<(payload: never) => void>>();
  const predicates = new Map<(payload: never) => void, () => boolean>();

  function safely(call: () => void): void {
    try {
      call();
    } catch {
      // Observability must not change delivery: a broken listener loses its event, nothing else.
    }
  }

  return {
    on(name, listener, options) {
      let set = listeners.get(name);
      if (set === undefined) {
        set = new Set();
        listeners.set(name, set);
      }
      // A wrapper per registration, so the same function added twice stays two listeners.
      const stored: (payload: never) => void =
        options?.enabled === undefined
          ? (listener as (payload: never) => void)
          : (payload: never) => (listener as (payload: never) => void)(payload);
      if (options?.enabled !== undefined) predicates.set(stored, options.enabled);
      set.add(stored);
      return () => {
        set.delete(stored);
        predicates.delete(stored);
      };
    },
    has(name) {
      if (onEvent !== undefined) return true;
      const set = listeners.get(name);
      if (set === undefined || set.size === 0) return false;
      for (const listener of set) {
        const enabled = predicates.get(listener);
        if (enabled === undefined) return true;
        try {
          if (enabled()) return true;
        } catch {
          return true; // a broken predicate loses nothing: the event is built as before
        }
      }
      return false;
    },
    emit(name, payload) {
      const set = listeners.get(name);
      if (set !== undefined && set.size > 0) {
        // The listeners as they were: one may add or remove listeners while the event goes round.
        const current = set.size === 1 ? [set.values().next().value!] : [...set];
        for (const listener of current) {
          try {
            (listener as DeliveryEventListener<typeof name>)(payload);
          } catch {
            // Observability must not change delivery: a broken listener loses its event.
          }
        }
      }
      if (onEvent !== undefined) {
        safely(() => onEvent({ name, payload } as DeliveryWorkerEvent));
      }
    },
  };
}
