// The `nats-core` transport: an attempt publishes the signed message with core NATS (no
// JetStream) to the subject the endpoint's template gives for it, then flushes; the server's
// answer to the flush is the success. Core NATS has no PubAck and stores nothing: only the
// subscribers connected at that moment (browsers, agents) get the message, and one published
// while nobody listens is gone, as in any live stream. For a message that must wait for its
// reader, use the `nats` (JetStream) transport.
//
// The message carries Herald's headers and the scheme's signature headers as NATS headers, and
// `Nats-Msg-Id` = the delivery id (a stream that happens to capture the subject drops retries).
import {
  answeredAttempt,
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
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  loadNats,
  type NatsConnection,
  type NatsConnectionOptions,
  openConnection,
} from "../../bus/nats/load.js";
import { describeNatsError, natsMsgId } from "./nats.js";
import { renderNatsSubject } from "./natsSubjectTemplate.js";

export interface NatsCoreTransportOptions {
  /**
   * Where to connect (`servers`, credentials, `connectOptions`), or an open `connection` to
   * borrow (`close()` leaves it open). Herald's own connection opens on the first send, and
   * again on the next send after it failed.
   */
  nats: NatsConnectionOptions;
  /** `startedAt` of each attempt. */
  clock?: Clock;
}

export interface NatsCoreTransport extends Transport {
  /**
   * One round trip to the NATS server now (connecting first when needed), for readiness checks;
   * rejects (`bus.unavailable`) when it does not answer.
   */
  ping(): Promise<void>;
}

interface Opened {
  connection: NatsConnection;
  release(): Promise<void>;
}

export function createNatsCoreTransport(options: NatsCoreTransportOptions): NatsCoreTransport {
  const { clock = systemClock } = options;
  let opened: Promise<Opened> | undefined;
  let closed = false;

  function connection(): Promise<NatsConnection> {
    if (closed) return Promise.reject(new Error("the nats-core transport is closed"));
    opened ??= openConnection(options.nats).catch((error: unknown) => {
      opened = undefined; // the next attempt connects again
      throw error;
    });
    return opened.then((o) => {
      if (o.connection.isClosed()) {
        // Closed for good (nats.js gave up reconnecting): the next attempt opens a new one.
        opened = undefined;
        throw new Error("the NATS connection is closed");
      }
      return o.connection;
    });
  }

  async function send(input: TransportSendInput): Promise<TransportResult> {
    const { endpoint, message } = input;
    const timer = startAttempt(clock);
    const rendered = renderNatsSubject(endpoint.target, {
      tenant: message.tenant,
      type: message.type,
      messageId: message.id,
    });
    if (!rendered.ok) {
      // The same message can never make a valid subject: dead-letter it now.
      return answeredAttempt(timer, {
        error: `request.invalid: ${rendered.reason}`,
        classification: { outcome: "reject", reason: "rejected" },
      });
    }
    const { subject } = rendered;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const { body, headers } = prepared.message;
    const timeoutMs = endpoint.timeoutMs;
    try {
      const outcome = await withDeadline(async (signal) => {
        const nc = await connection();
        const { transport } = await loadNats();
        // Past the deadline the attempt is already a timeout: publishing now would only add a
        // copy next to the retry's.
        signal.throwIfAborted();
        const natsHeaders = transport.headers();
        for (const [name, value] of Object.entries(headers)) natsHeaders.set(name, value);
        natsHeaders.set("Nats-Msg-Id", natsMsgId(input));
        nc.publish(subject, body, { headers: natsHeaders });
        // The server answers the flush's PING after it has processed the publish before it.
        await nc.flush();
      }, timeoutMs);
      if (outcome.timedOut) {
        return failedAttempt(
          timer,
          `timeout: the NATS server did not answer the flush within ${timeoutMs} ms`,
          "timeout",
        );
      }
      return succeededAttempt(timer, JSON.stringify({ subject }));
    } catch (error) {
      return failedAttempt(timer, describeNatsError(error), "network_error");
    }
  }

  async function close(): Promise<void> {
    closed = true;
    const pending = opened;
    opened = undefined;
    if (pending === undefined) return;
    const o = await pending.catch(() => undefined);
    await o?.release();
  }

  async function ping(): Promise<void> {
    try {
      await (await connection()).rtt();
    } catch (error) {
      throw new HeraldError("bus.unavailable", "The NATS server did not answer a ping", {
        cause: error,
      });
    }
  }

  return { send, close, ping };
}
