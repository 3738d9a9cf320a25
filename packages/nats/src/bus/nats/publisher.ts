// JetStream publisher: every message carries `Nats-Msg-Id` = its id, so the server drops
// re-sends within the stream's duplicate window; publish resolves on the PubAck (stored).

import type { BusMessage, BusPublisher, PublishAck } from "@heraldjs/core/internal/bus/port.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { loadNats, type NatsConnectionOptions, openConnection } from "./load.js";
import { ensureNatsStream, type NatsStreamOptions, type NatsStreamState } from "./stream.js";

export interface NatsPublisherOptions extends NatsConnectionOptions, NatsStreamOptions {
  /** Create the stream when missing (default true); false expects an operator-made stream. */
  createStream?: boolean;
  /** How long to wait for each PubAck; default 5000 ms. */
  timeoutMs?: number;
}

export interface NatsPublisher extends BusPublisher {
  /** The stream as found or created at start-up (undefined with `createStream: false`). */
  readonly stream: NatsStreamState | undefined;
  /**
   * One round trip to the server now (readiness): resolves when it answered, rejects
   * (`bus.unavailable`) when the connection is closed or the server did not answer.
   */
  ping(): Promise<void>;
}

/** Connects (or borrows `connection`), ensures the stream, and returns the publisher. */
export async function createNatsPublisher(options: NatsPublisherOptions): Promise<NatsPublisher> {
  const { createStream = true, timeoutMs = 5000 } = options;
  const { jetstream, transport } = await loadNats();
  const opened = await openConnection(options);
  let stream: NatsStreamState | undefined;
  try {
    if (createStream) stream = await ensureNatsStream(opened.connection, options);
  } catch (error) {
    await opened.release();
    throw error;
  }
  const js = jetstream.jetstream(opened.connection, { timeout: timeoutMs });
  const expectedStream = stream?.stream ?? options.stream;

  return {
    stream,
    async publish(message: BusMessage): Promise<PublishAck> {
      const headers = transport.headers();
      for (const [name, value] of Object.entries(message.headers)) headers.set(name, value);
      try {
        const ack = await js.publish(message.subject, message.data, {
          msgID: message.id,
          headers,
          timeout: timeoutMs,
          // A subject captured by some other stream must fail, not land there undeduped.
          ...(expectedStream === undefined ? {} : { expect: { streamName: expectedStream } }),
        });
        return { duplicate: ack.duplicate, sequence: ack.seq };
      } catch (error) {
        // No PubAck: the message may or may not be stored. The caller re-sends and the
        // msg-id dedupe makes that safe.
        throw new HeraldError(
          "bus.unavailable",
          `JetStream did not acknowledge ${message.subject} (${message.id})`,
          { cause: error, details: { subject: message.subject, id: message.id } },
        );
      }
    },
    async ping(): Promise<void> {
      try {
        await opened.connection.rtt();
      } catch (error) {
        throw new HeraldError("bus.unavailable", "The NATS server did not answer a ping", {
          cause: error,
        });
      }
    },
    close: () => opened.release(),
  };
}
