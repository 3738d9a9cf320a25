// Bus ports: what a publisher and a consumer of a message bus (NATS JetStream, in-memory)
// promise, so the forwarder and the delivery engine never depend on one broker.
import type { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** One message on the bus. `id` is the dedupe identity: for events, the event id. */
export interface BusMessage {
  id: string;
  subject: string;
  data: Uint8Array;
  /** Header names are lowercase (see BUS_HEADERS); values are single strings. */
  headers: Record<string, string>;
}

/** The bus's answer to a publish. */
export interface PublishAck {
  /**
   * True when the bus already held a message with this id (within its dedupe window) and
   * did not store this one again: a re-send, not a failure.
   */
  duplicate: boolean;
  /** Position of the stored message in the bus's stream, when the bus has one. */
  sequence?: number;
}

export interface BusPublisher {
  /**
   * Resolves only once the bus has durably accepted the message (for JetStream: the PubAck);
   * rejects (HeraldError `bus.unavailable`) when that cannot be confirmed — the caller must
   * then treat the message as not published and send it again.
   */
  publish(message: BusMessage): Promise<PublishAck>;
  /**
   * Optional: publishes several messages at once (for brokers with a batch call, such as
   * EventBridge's PutEvents). Resolves, one ack per message in the order given, once the bus
   * has durably accepted every message; rejects when any could not be — some may have been
   * stored anyway, so the caller sends the whole batch again (consumers dedupe on the id). The
   * order in which the bus stores or delivers them is not guaranteed.
   */
  publishBatch?(messages: readonly BusMessage[]): Promise<PublishAck[]>;
  /** Releases what the publisher opened (a connection it created); never a borrowed one. */
  close(): Promise<void>;
}

/** Where a delivery stands, as the handler sees it. */
export interface DeliveryContext {
  /** 1 on the first delivery, counting every redelivery (nak, ack timeout, crash). */
  deliveryCount: number;
  redelivered: boolean;
  /** The delivery after which a failing message is terminated and dead-lettered. */
  maxDeliver: number;
}

/**
 * What to do with a delivered message. A handler that returns nothing acks; one that throws
 * is retried (`nak` with the configured delay) until `maxDeliver`, then terminated.
 */
export type MessageDisposition =
  | { action: "ack" }
  /** Redeliver after `delayMs` (default: the consumer's retry delay for this delivery). */
  | { action: "nak"; delayMs?: number; reason?: string }
  /** Never redeliver: a poison message (for example one that is not a valid envelope). */
  | { action: "term"; reason: string };

export type MessageHandler = (
  message: BusMessage,
  context: DeliveryContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing acks
) => Promise<MessageDisposition | void> | MessageDisposition | void;

/** A message the consumer gave up on: reported to `onDeadLetter`, never redelivered. */
export interface DeadLetter {
  message: BusMessage;
  deliveryCount: number;
  reason: string;
  error?: HeraldError;
}

/** How long to wait before redelivering a failed message. */
export interface RetryDelayOptions {
  /** Fixed delay before every redelivery; default 5000 ms. Ignored when `backoff` is set. */
  nakDelayMs?: number;
  /**
   * Delay before redelivery n (n ≥ 1) is `backoff[n - 1]`, the last entry repeating:
   * `[1000, 5000, 30000]`.
   */
  backoff?: readonly number[];
}

export interface SubscribeOptions extends RetryDelayOptions {
  /** Durable consumer name: deliveries and acks survive restarts under this name. */
  durable: string;
  /** Subjects to receive (NATS wildcards `*` and `>`); default every subject. */
  filterSubjects?: readonly string[];
  handler: MessageHandler;
  /** Deliveries before a failing message is terminated and dead-lettered; default 5. */
  maxDeliver?: number;
  /** Called once per message given up on; errors it throws are reported to `onError`. */
  onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
  /** Problems that do not belong to one handler call (bus errors, a failing hook). */
  onError?: (error: HeraldError) => void;
}

export interface BusSubscription {
  /**
   * Stops taking new messages, handles and settles those already fetched (a drain: at most
   * the driver's prefetch), then resolves.
   */
  stop(): Promise<void>;
  /** Resolves once the subscription has stopped (by `stop()` or because the bus closed). */
  readonly closed: Promise<void>;
}

export interface BusConsumer {
  subscribe(options: SubscribeOptions): Promise<BusSubscription>;
}
