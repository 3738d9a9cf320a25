// JetStream implementation of the BusConsumer port: a durable pull consumer with explicit
// acks; each message is settled (ack / nak with delay / term) by the shared settle logic.

import type {
  BusConsumer,
  BusMessage,
  BusSubscription,
  SubscribeOptions,
} from "@heraldjs/core/internal/bus/port.js";
import {
  checkSubscribeOptions,
  DEFAULT_MAX_DELIVER,
  report,
  settleDelivery,
} from "@heraldjs/core/internal/bus/settle.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { ConsumerConfig, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { loadNats, type NatsConnection } from "./load.js";

export interface NatsBusConsumerOptions {
  /** The stream the durable consumers read; it must exist (see ensureNatsStream). */
  stream: string;
  /**
   * How long the server waits for an ack before redelivering; default 30 s. While a handler
   * runs, the consumer tells the server it is still working every half of this, so only a
   * crashed or stuck process lets it expire.
   */
  ackWaitMs?: number;
  /** Messages fetched ahead of the one being handled (stop() handles them too); default 16. */
  prefetch?: number;
}

export const DEFAULT_ACK_WAIT_MS = 30_000;

function toRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  for (const [name, values] of headers) {
    if (values.length > 0) record[name.toLowerCase()] = values[values.length - 1]!;
  }
  return record;
}

function toBusMessage(msg: JsMsg): BusMessage {
  const headers = toRecord(msg.headers);
  return {
    // Messages published without a msg id (not by Herald) still get a stable identity.
    id: headers["nats-msg-id"] ?? `${msg.info.stream}:${msg.seq}`,
    subject: msg.subject,
    data: msg.data,
    headers,
  };
}

/** Whether a nats-server version (`2.10.27`) is at least `wanted` (`[2, 10]`). */
export function versionAtLeast(version: string | undefined, wanted: readonly number[]): boolean {
  const parts = (version ?? "0").split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < wanted.length; index++) {
    const have = parts[index] ?? 0;
    if (have !== wanted[index]) return have > wanted[index]!;
  }
  return true;
}

/** Adds the durable consumer, or aligns an existing one's settings with these. */
export async function ensureDurable(
  connection: NatsConnection,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  const { jetstream } = await loadNats();
  const jsm = await jetstream.jetstreamManager(connection);
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch (error) {
    if (!(error instanceof jetstream.JetStreamApiError)) throw error;
    if (error.code === jetstream.JetStreamApiCodes.StreamNotFound) {
      throw new HeraldError("config.invalid", `JetStream stream ${stream} does not exist`, {
        cause: error,
        details: { stream },
      });
    }
    if (error.code !== jetstream.JetStreamApiCodes.ConsumerNotFound) throw error;
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch {
      // Another process added it meanwhile: fall through and align its settings.
    }
  }
  const { durable_name, ack_policy, deliver_policy, ...updatable } = config;
  await jsm.consumers.update(stream, durable_name, updatable);
}

/**
 * A BusConsumer over one JetStream stream. Handlers run one message at a time per
 * subscription, in delivery order; run several subscriptions (processes) on one durable to
 * share the load.
 */
export function createNatsBusConsumer(
  connection: NatsConnection,
  { stream, ackWaitMs = DEFAULT_ACK_WAIT_MS, prefetch = 16 }: NatsBusConsumerOptions,
): BusConsumer {
  return {
    async subscribe(options: SubscribeOptions): Promise<BusSubscription> {
      checkSubscribeOptions(options);
      const { jetstream, transport } = await loadNats();
      const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
      const filters = options.filterSubjects ?? [];
      let messages: ConsumerMessages;
      try {
        await ensureDurable(connection, stream, {
          durable_name: options.durable,
          ack_policy: jetstream.AckPolicy.Explicit,
          deliver_policy: jetstream.DeliverPolicy.All,
          ack_wait: transport.nanos(ackWaitMs),
          // The server stops redelivering after this many deliveries even when the process
          // handling the last one crashed before it could terminate the message.
          max_deliver: maxDeliver,
          // One filter works on every server; several need NATS 2.10 or later.
          ...(filters.length === 1
            ? { filter_subject: filters[0] }
            : filters.length > 1
              ? { filter_subjects: [...filters] }
              : {}),
        });
        const js = jetstream.jetstream(connection);
        const consumer = await js.consumers.get(stream, options.durable);
        messages = await consumer.consume({ max_messages: prefetch });
      } catch (error) {
        if (error instanceof HeraldError) throw error;
        throw new HeraldError("bus.unavailable", `Cannot consume ${stream}/${options.durable}`, {
          cause: error,
          details: { stream, durable: options.durable },
        });
      }

      // Servers before 2.10.4 do not parse "+TERM <reason>" and leave the message pending.
      const termWithReason = versionAtLeast(connection.info?.version, [2, 10, 4]);
      async function handle(msg: JsMsg): Promise<void> {
        // Keeps the server from redelivering to another process while a slow handler runs.
        const heartbeat = setInterval(() => msg.working(), Math.max(1, ackWaitMs / 2));
        try {
          const context = {
            deliveryCount: msg.info.deliveryCount,
            redelivered: msg.redelivered,
            maxDeliver,
          };
          await settleDelivery(toBusMessage(msg), context, options, {
            // ackAck waits for the server to confirm, so an ack lost on the wire is noticed.
            ack: async () => {
              if (!(await msg.ackAck())) throw new Error("the server did not confirm the ack");
            },
            nak: (delayMs) => msg.nak(delayMs),
            term: (reason) => (termWithReason ? msg.term(reason) : msg.term()),
          });
        } finally {
          clearInterval(heartbeat);
        }
      }

      const closed = (async () => {
        try {
          // After close() the iterator still yields what was fetched ahead, then ends: those
          // are handled too (a drain). Nak'ing them instead is unreliable on older servers.
          for await (const msg of messages) await handle(msg);
        } catch (error) {
          report(options.onError, coerceError(error, "bus.unavailable"));
        }
      })();

      return {
        async stop() {
          await messages.close();
          await closed;
          // Gets the unsubscribe to the server now: until it arrives, the server may still
          // hand this pull request a message, which then waits out the ack wait.
          await connection.flush().catch(() => {});
        },
        closed,
      };
    },
  };
}
