// The consumer helper most applications want: events from a JetStream stream, each handled
// once per event id (inbox dedupe), retried with a delay, dead-lettered after maxDeliver.

import {
  type EnvelopeHandler,
  type InboxOptions,
  inboxHandler,
} from "@heraldjs/core/internal/bus/inboxHandler.js";
import type { BusSubscription, SubscribeOptions } from "@heraldjs/core/internal/bus/port.js";
import type { DedupeStore } from "@heraldjs/core/internal/store/ports.js";
import type { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { createNatsBusConsumer, type NatsBusConsumerOptions } from "./consumer.js";
import { type NatsConnectionOptions, openConnection } from "./load.js";

export interface NatsConsumerOptions
  extends NatsConnectionOptions,
    NatsBusConsumerOptions,
    Omit<SubscribeOptions, "handler">,
    Pick<InboxOptions, "leaseMs" | "ttlMs" | "busyDelayMs"> {
  /** Inbox store: the same event id runs the handler once per `consumerName`. */
  dedupe: DedupeStore;
  /** The consumer's name in the inbox; default the durable name. */
  consumerName?: string;
  handler: EnvelopeHandler;
}

export interface NatsConsumer {
  /** Finishes the message in hand, hands prefetched ones back, drains its own connection. */
  stop(): Promise<void>;
  readonly closed: Promise<void>;
}

/** Connects (or borrows `connection`), creates/updates the durable consumer and starts it. */
export async function createNatsConsumer(options: NatsConsumerOptions): Promise<NatsConsumer> {
  const { dedupe, consumerName = options.durable, handler, leaseMs, ttlMs, busyDelayMs } = options;
  const onError = options.onError;
  const opened = await openConnection(options);
  let subscription: BusSubscription;
  try {
    const consumer = createNatsBusConsumer(opened.connection, options);
    subscription = await consumer.subscribe({
      ...options,
      handler: inboxHandler(handler, {
        consumer: consumerName,
        dedupe,
        ...(leaseMs === undefined ? {} : { leaseMs }),
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(busyDelayMs === undefined ? {} : { busyDelayMs }),
        ...(onError === undefined ? {} : { onError: (error: HeraldError) => onError(error) }),
      }),
    });
  } catch (error) {
    await opened.release();
    throw error;
  }
  return {
    async stop() {
      await subscription.stop();
      await opened.release();
    },
    closed: subscription.closed,
  };
}
