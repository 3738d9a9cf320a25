// One AMQP connection and its confirm channel, shared by every endpoint with the same broker URL:
// a publish settles when the broker confirms it (basic.ack), fails when the broker returns it as
// unroutable (basic.return before the ack), nacks it, or the channel or connection goes away.

import type { ChannelModel, ConfirmChannel, ConsumeMessage, Message } from "amqplib";
import { connect } from "amqplib";
import type { RabbitMqTarget } from "./rabbitmqTarget.js";

/** One message to publish: the signed body and headers of an attempt. */
export interface RabbitMqPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  headers: Record<string, string>;
  /** AMQP `message-id`: the message id, the same on every retry. */
  messageId: string;
  /** Correlates a basic.return with the publish it refuses (`x-herald-delivery-id`). */
  deliveryId: string;
  /** AMQP `type`: the event type. */
  type: string;
  /** AMQP `timestamp`, seconds since the epoch. */
  timestampS: number;
}

/** A failure's text, already prefixed (`rabbitmq: …`, `network: …`). */
export type PublishOutcome = { ok: true } | { ok: false; error: string };

export interface RabbitMqLink {
  /** Resolves once the broker confirmed or refused the message; never rejects. */
  publish(message: RabbitMqPublish): Promise<PublishOutcome>;
  /**
   * Checks that a named exchange exists, on a throwaway channel (a publish to a missing
   * exchange would close the shared channel and fail every publish in flight on it).
   */
  checkExchange(exchange: string): Promise<PublishOutcome>;
  /** True once the connection or channel closed: the transport opens a new link. */
  readonly broken: boolean;
  /** Why the broker blocks publishing (connection.blocked, e.g. a memory alarm); else null. */
  readonly blockedReason: string | null;
  close(): Promise<void>;
}

export interface RabbitMqLinkOptions {
  /** The address the SSRF guard resolved the target's host to: where the socket goes. */
  address: string;
  /** Socket connect + AMQP handshake limit. */
  connectTimeoutMs: number;
  /** AMQP heartbeat (s): a silent, half-open connection is noticed within two of these. */
  heartbeatS: number;
}

interface InFlight {
  deliveryId: string;
  exchange: string;
  routingKey: string;
  /** Set by basic.return, which RabbitMQ sends before the message's basic.ack. */
  returned: string | null;
  settle(outcome: PublishOutcome): void;
}

/** Exchanges known to exist per link; cleared past this many so memory stays bounded. */
const MAX_CHECKED_EXCHANGES = 1000;

function message(error: unknown, fallback: string): string {
  return error instanceof Error && error.message !== "" ? error.message : fallback;
}

function headerText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return null;
}

/** Connects (socket to `address`, TLS name and vhost from the target) and opens the confirm channel. */
export async function openRabbitMqLink(
  target: RabbitMqTarget,
  options: RabbitMqLinkOptions,
): Promise<RabbitMqLink> {
  const model: ChannelModel = await connect(
    {
      protocol: target.protocol,
      hostname: options.address,
      port: target.port,
      username: target.username,
      password: target.password,
      vhost: target.vhost,
      heartbeat: options.heartbeatS,
    },
    {
      timeout: options.connectTimeoutMs,
      noDelay: true,
      keepAlive: true,
      // The certificate is checked against the name in the target, not the resolved address.
      ...(target.protocol === "amqps" ? { servername: target.hostname } : {}),
    },
  );
  let broken = false;
  let blockedReason: string | null = null;
  let lastError: string | null = null;
  const inFlight = new Set<InFlight>();
  const checkedExchanges = new Set<string>();

  function breakLink(reason: string): void {
    lastError ??= reason;
    broken = true;
    for (const entry of [...inFlight]) entry.settle({ ok: false, error: `rabbitmq: ${lastError}` });
  }

  model.on("error", (error: unknown) => {
    lastError ??= `connection error: ${message(error, "unknown")}`;
  });
  model.on("close", () => breakLink("connection closed"));
  model.on("blocked", (reason: unknown) => {
    blockedReason = typeof reason === "string" ? reason : "blocked";
  });
  model.on("unblocked", () => {
    blockedReason = null;
  });

  let channel: ConfirmChannel;
  try {
    channel = await model.createConfirmChannel();
  } catch (error) {
    await model.close().catch(() => {});
    throw error;
  }
  channel.on("error", (error: unknown) => {
    lastError ??= `channel error: ${message(error, "unknown")}`;
  });
  channel.on("close", () => {
    breakLink("channel closed");
    // A channel the broker closed leaves the connection open: close it, a new link replaces both.
    model.close().catch(() => {});
  });
  channel.on("return", (returned: Message | ConsumeMessage) => {
    const deliveryId = headerText(returned.properties.headers?.["x-herald-delivery-id"]);
    const { exchange, routingKey, replyCode, replyText } =
      returned.fields as typeof returned.fields & {
        replyCode?: number;
        replyText?: string;
      };
    for (const entry of inFlight) {
      if (
        entry.deliveryId === deliveryId &&
        entry.exchange === exchange &&
        entry.routingKey === routingKey
      ) {
        entry.returned = `${replyCode ?? "?"} ${replyText ?? "NO_ROUTE"}`;
      }
    }
  });

  function publish(msg: RabbitMqPublish): Promise<PublishOutcome> {
    if (broken) return Promise.resolve({ ok: false, error: `rabbitmq: ${lastError ?? "closed"}` });
    // A blocked connection reads nothing: publishing would only pile messages up in its socket.
    if (blockedReason !== null) {
      return Promise.resolve({
        ok: false,
        error: `rabbitmq: the broker blocks publishing (${blockedReason})`,
      });
    }
    return new Promise<PublishOutcome>((resolve) => {
      const entry: InFlight = {
        deliveryId: msg.deliveryId,
        exchange: msg.exchange,
        routingKey: msg.routingKey,
        returned: null,
        settle: (outcome) => {
          if (inFlight.delete(entry)) resolve(outcome);
        },
      };
      inFlight.add(entry);
      try {
        channel.publish(
          msg.exchange,
          msg.routingKey,
          msg.body,
          {
            mandatory: true,
            persistent: true,
            messageId: msg.messageId,
            contentType: "application/json",
            type: msg.type,
            timestamp: msg.timestampS,
            headers: msg.headers,
          },
          (error: unknown) => {
            if (error !== null && error !== undefined) {
              const text = message(error, "refused");
              entry.settle({
                ok: false,
                error:
                  text === "message nacked"
                    ? "rabbitmq: the broker nacked the message"
                    : `rabbitmq: ${lastError ?? text}`,
              });
            } else if (entry.returned !== null) {
              const where =
                msg.exchange === "" ? "the default exchange" : `exchange "${msg.exchange}"`;
              entry.settle({
                ok: false,
                error: `rabbitmq: unroutable: ${where} routed routing key "${msg.routingKey}" to no queue (${entry.returned})`,
              });
            } else {
              entry.settle({ ok: true });
            }
          },
        );
      } catch (error) {
        entry.settle({
          ok: false,
          error: `rabbitmq: ${lastError ?? message(error, "publish failed")}`,
        });
      }
    });
  }

  async function checkExchange(exchange: string): Promise<PublishOutcome> {
    if (exchange === "" || checkedExchanges.has(exchange)) return { ok: true };
    if (broken) return { ok: false, error: `rabbitmq: ${lastError ?? "closed"}` };
    let check: Awaited<ReturnType<ChannelModel["createChannel"]>> | undefined;
    try {
      check = await model.createChannel();
      check.on("error", () => {});
      await check.checkExchange(exchange);
      if (checkedExchanges.size >= MAX_CHECKED_EXCHANGES) checkedExchanges.clear();
      checkedExchanges.add(exchange);
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        error: `rabbitmq: exchange "${exchange}": ${message(error, "not usable")}`,
      };
    } finally {
      await check?.close().catch(() => {});
    }
  }

  async function close(): Promise<void> {
    lastError ??= "transport closed";
    broken = true;
    await model.close().catch(() => {});
    breakLink("transport closed");
  }

  return {
    publish,
    checkExchange,
    get broken() {
      return broken;
    },
    get blockedReason() {
      return blockedReason;
    },
    close,
  };
}
