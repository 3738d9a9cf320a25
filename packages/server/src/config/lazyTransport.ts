// A transport whose module loads on its first send: the WebSocket, gRPC, RabbitMQ and Redis
// Streams clients are loaded only by a service that delivers to such an endpoint.
import {
  failedAttempt,
  startAttempt,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";

/**
 * `load` runs once, on the first send (again after it failed). A send while it cannot load is a
 * failed attempt `transport.unavailable: …` (a retry); `close()` closes what was loaded.
 */
export function lazyTransport(
  name: string,
  load: () => Promise<Transport>,
  clock: Clock = systemClock,
): Transport {
  let loading: Promise<Transport> | undefined;
  let closed = false;

  async function send(input: TransportSendInput): Promise<TransportResult> {
    const timer = startAttempt(clock);
    if (closed) {
      return failedAttempt(
        timer,
        `transport.unavailable: the ${name} transport is closed`,
        "network_error",
      );
    }
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    let transport: Transport;
    try {
      transport = await loading;
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      return failedAttempt(
        timer,
        `transport.unavailable: the ${name} transport did not load: ${text}`,
        "network_error",
      );
    }
    return transport.send(input);
  }

  async function close(): Promise<void> {
    closed = true;
    const loaded = await loading?.catch(() => undefined);
    await loaded?.close();
  }

  return { send, close };
}
