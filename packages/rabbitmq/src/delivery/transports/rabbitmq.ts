// RabbitMQ transport: an attempt publishes the signed message to the endpoint's exchange with
// routing key, mandatory and persistent, and succeeds only when the broker confirms it.

import { createSsrfGuard } from "@heraldjs/core/internal/delivery/ssrfGuard.js";
import {
  type AttemptTimer,
  failedAttempt,
  parseAttemptTarget,
  succeededAttempt,
  withDeadline,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import { createConnectionSlots } from "@heraldjs/core/internal/delivery/transports/connectionSlots.js";
import { createDrainingTransport } from "@heraldjs/core/internal/delivery/transports/drainingTransport.js";
import { guardedAddress } from "@heraldjs/core/internal/delivery/transports/guardedHost.js";
import type { NetworkTransportOptions } from "@heraldjs/core/internal/delivery/transports/networkTransportOptions.js";
import { describeSendError } from "@heraldjs/core/internal/delivery/transports/sendErrors.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import { scrubPassword } from "@heraldjs/core/internal/delivery/transports/targetUrl.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { openRabbitMqLink, type RabbitMqLink } from "./rabbitmqLink.js";
import { parseRabbitMqTarget, type RabbitMqTarget } from "./rabbitmqTarget.js";

export type RabbitMqTransportOptions = NetworkTransportOptions;

/** Socket connect + AMQP handshake limit, independent of any one attempt's deadline. */
const CONNECT_TIMEOUT_MS = 10_000;
const HEARTBEAT_S = 10;
/** Waits before reconnecting after a failed connect: 100 ms doubling to 5 s; reset by a confirm. */
const RECONNECT_BACKOFF = { baseMs: 100, maxMs: 5_000 };

/**
 * Throws HeraldError("request.invalid", "url: must be …", { details: { field: "url" } }) for a
 * target that is not `amqp(s)://[user:pass@]host[:port][/vhost]?exchange=<name>&routing_key=<key>`
 * (never echoing a password); returns nothing when fine.
 */
export function checkRabbitMqTarget(target: string): void {
  parseRabbitMqTarget(target);
}

/** A failure to connect as the attempt log shows it: `ssrf.blocked:`, `network:` or `rabbitmq:`. */
function describeConnectError(error: unknown, target: RabbitMqTarget, timeoutMs: number): string {
  const coded =
    isHeraldError(error, "ssrf.blocked") ||
    (error instanceof Error && typeof (error as { code?: unknown }).code === "string");
  const text = coded
    ? describeSendError(error, timeoutMs)
    : `rabbitmq: ${error instanceof Error && error.message !== "" ? error.message : "could not connect"}`;
  return scrubPassword(text, target.password);
}

export function createRabbitMqTransport(options: RabbitMqTransportOptions = {}): Transport {
  const { clock = systemClock } = options;
  const guard = createSsrfGuard({ allow: options.ssrfAllow ?? [] });
  /** One link per broker URL (the target without its query). */
  const slots = createConnectionSlots<RabbitMqLink>(RECONNECT_BACKOFF);

  /** The URL's open link, connecting when there is none; rejects with the attempt's error text. */
  function linkFor(target: RabbitMqTarget, timeoutMs: number): Promise<RabbitMqLink> {
    return slots.connect(target.connectionKey, {
      open: async () => {
        const address = await guardedAddress(guard, target.hostname);
        return openRabbitMqLink(target, {
          address,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          heartbeatS: HEARTBEAT_S,
        });
      },
      usable: (link) => !link.broken,
      describe: (error) => describeConnectError(error, target, timeoutMs),
    });
  }

  async function publishAttempt(
    input: TransportSendInput,
    timer: AttemptTimer,
  ): Promise<TransportResult> {
    const { endpoint, message, delivery } = input;
    const timeoutMs = endpoint.timeoutMs;
    const parsed = parseAttemptTarget(timer, endpoint.target, parseRabbitMqTarget);
    if (!parsed.ok) return parsed.result;
    const { target } = parsed;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const { body, headers } = prepared.message;
    let blocked: string | null = null;
    const outcome = await withDeadline(async (signal) => {
      let link: RabbitMqLink;
      try {
        link = await linkFor(target, timeoutMs);
      } catch (error) {
        return {
          ok: false as const,
          error: error instanceof Error ? error.message : "rabbitmq: could not connect",
        };
      }
      blocked = link.blockedReason;
      const checked = await link.checkExchange(target.exchange);
      if (!checked.ok) return checked;
      // Past the deadline the attempt is already reported as a timeout: publish nothing more.
      if (signal.aborted) return { ok: false as const, error: "timeout: aborted" };
      const published = await link.publish({
        exchange: target.exchange,
        routingKey: target.routingKey,
        body,
        headers,
        messageId: message.id,
        deliveryId: delivery.id,
        type: message.type,
        timestampS: Math.floor(timer.startedMs / 1000),
      });
      if (published.ok) slots.succeeded(target.connectionKey);
      return published;
    }, timeoutMs);
    if (outcome.timedOut) {
      const why = blocked === null ? "" : ` (the broker blocks publishing: ${blocked})`;
      return failedAttempt(
        timer,
        `timeout: no confirm from RabbitMQ within ${timeoutMs} ms${why}`,
        "timeout",
      );
    }
    const result = outcome.value;
    if (!result.ok)
      return failedAttempt(timer, scrubPassword(result.error, target.password), "network_error");
    return succeededAttempt(
      timer,
      JSON.stringify({
        exchange: target.exchange,
        routing_key: target.routingKey,
        confirmed: true,
      }),
    );
  }

  return createDrainingTransport({
    name: "rabbitmq",
    clock,
    attempt: publishAttempt,
    thrownFallback: "publish failed",
    // Sends in flight end first (each within its deadline), so no confirm is lost.
    release: async () => {
      await Promise.all(
        slots.removeAll().map(async (pending) => {
          const link = await pending.catch(() => null);
          await link?.close();
        }),
      );
    },
  });
}
