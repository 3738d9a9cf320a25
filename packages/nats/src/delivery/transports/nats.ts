// NATS transport: an attempt publishes the message to the endpoint's subject on JetStream; the PubAck is success.

import type { BusPublisher, PublishAck } from "@heraldjs/core/internal/bus/port.js";
import {
  failedAttempt,
  startAttempt,
  succeededAttempt,
  withDeadline,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import {
  createNatsPublisher,
  type NatsPublisher,
  type NatsPublisherOptions,
} from "../../bus/nats/publisher.js";
import type { NatsStreamState } from "../../bus/nats/stream.js";

export interface NatsTransportOptions {
  /**
   * A publisher to use (borrowed: `close()` leaves it open). Without it, one is created from
   * the remaining options on the first send, and re-tried on the next send if that fails.
   */
  publisher?: BusPublisher;
  /** Connection and stream options for the publisher created when `publisher` is not given. */
  nats?: NatsPublisherOptions;
  /** `startedAt` of each attempt. */
  clock?: Clock;
}

/** The `Nats-Msg-Id` of a delivery: one per (message, endpoint), stable across retries and replays. */
export function natsMsgId(input: Pick<TransportSendInput, "delivery">): string {
  return input.delivery.id;
}

/** `nats: <message>: <cause>…` of a client error, for an attempt's error text. */
export function describeNatsError(error: unknown): string {
  const parts: string[] = [];
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message !== "" && !parts.includes(current.message)) parts.push(current.message);
    current = current.cause;
  }
  return `nats: ${parts.length > 0 ? parts.join(": ") : "publish failed"}`;
}

/** The stream a Herald-made publisher found or created; null for a publisher that does not say. */
function streamName(bus: BusPublisher): string | null {
  return streamOf(bus)?.stream ?? null;
}

function streamOf(bus: BusPublisher): NatsStreamState | undefined {
  return (bus as Partial<NatsPublisher>).stream;
}

/** Where a NATS transport publishes, as `ready()` found it. */
export interface NatsTransportTarget {
  /** The stream found or created; null for a borrowed publisher or `createStream: false`. */
  stream: string | null;
  /** The subjects that stream captures; null when not known (as for `stream`). */
  subjects: string[] | null;
}

export interface NatsTransport extends Transport {
  /**
   * Connects now instead of at the first send (and ensures the stream, unless `createStream`
   * is false): a service checks at start that NATS is reachable and which subjects its stream
   * captures. Rejects with the connection's or the stream's HeraldError.
   */
  ready(): Promise<NatsTransportTarget>;
  /**
   * One round trip to the NATS server now (connecting first when needed), for readiness checks;
   * rejects (`bus.unavailable`) when it does not answer. A borrowed publisher that cannot ping
   * counts as reachable.
   */
  ping(): Promise<void>;
}

export function createNatsTransport(options: NatsTransportOptions): NatsTransport {
  const { clock = systemClock } = options;
  const borrowed = options.publisher;
  let owned: Promise<BusPublisher> | undefined;

  function publisher(): Promise<BusPublisher> {
    if (borrowed !== undefined) return Promise.resolve(borrowed);
    if (options.nats === undefined) {
      return Promise.reject(new Error("the NATS transport needs `publisher` or `nats` options"));
    }
    owned ??= createNatsPublisher(options.nats).catch((error: unknown) => {
      owned = undefined; // the next attempt connects again
      throw error;
    });
    return owned;
  }

  async function send(input: TransportSendInput): Promise<TransportResult> {
    const { endpoint } = input;
    const timer = startAttempt(clock);
    const timeoutMs = endpoint.timeoutMs;
    // The endpoint's extras, Herald's x-herald-* and the scheme's signature headers.
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const { body, headers } = prepared.message;
    try {
      const outcome = await withDeadline(
        async (): Promise<PublishAck & { stream: string | null }> => {
          const bus = await publisher();
          const ack = await bus.publish({
            id: natsMsgId(input),
            subject: endpoint.target,
            data: body,
            headers,
          });
          return { ...ack, stream: streamName(bus) };
        },
        timeoutMs,
      );
      if (outcome.timedOut) {
        return failedAttempt(timer, `timeout: no PubAck within ${timeoutMs} ms`, "timeout");
      }
      const ack = outcome.value;
      return succeededAttempt(
        timer,
        JSON.stringify({
          stream: ack.stream,
          subject: endpoint.target,
          sequence: ack.sequence ?? null,
          duplicate: ack.duplicate,
        }),
      );
    } catch (error) {
      return failedAttempt(timer, describeNatsError(error), "network_error");
    }
  }

  async function close(): Promise<void> {
    const pending = owned;
    owned = undefined;
    if (pending === undefined) return;
    const bus = await pending.catch(() => undefined);
    await bus?.close();
  }

  async function ready(): Promise<NatsTransportTarget> {
    const stream = streamOf(await publisher());
    return {
      stream: stream?.stream ?? null,
      subjects: stream === undefined ? null : stream.subjects,
    };
  }

  async function ping(): Promise<void> {
    const bus = (await publisher()) as Partial<NatsPublisher>;
    await bus.ping?.();
  }

  return { send, close, ready, ping };
}
