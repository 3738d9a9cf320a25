// The send/close life of a transport that holds connections: each send is one timed attempt
// (anything it throws is a failed one), sends in flight are tracked, `close()` lets them end
// (each within its deadline) before releasing the connections, and a send after `close()` is a
// failed attempt rather than a new connection.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { type AttemptTimer, failedAttempt, startAttempt, thrownText } from "./attemptResult.js";
import type { Transport, TransportResult, TransportSendInput } from "./types.js";

export interface DrainingTransportOptions {
  /** The attempt errors' prefix: `<name>: the transport is closed`, `<name>: <thrown>`. */
  name: string;
  /** `startedAt` of each attempt. */
  clock: Clock;
  /** One attempt, timed by `timer`; it must settle within the endpoint's timeout. */
  attempt(input: TransportSendInput, timer: AttemptTimer): Promise<TransportResult>;
  /** The error of an attempt that threw without a message: `<name>: <thrownFallback>`. */
  thrownFallback: string;
  /** Closes the connections, once every send in flight at `close()` has ended. */
  release(): Promise<void>;
}

export interface DrainingTransport extends Transport {
  /** Whether `close()` has been called (a connect in progress should give up). */
  isClosing(): boolean;
}

export function createDrainingTransport(options: DrainingTransportOptions): DrainingTransport {
  const sending = new Set<Promise<TransportResult>>();
  let closing: Promise<void> | null = null;

  async function attempt(input: TransportSendInput): Promise<TransportResult> {
    const timer = startAttempt(options.clock);
    try {
      return await options.attempt(input, timer);
    } catch (error) {
      const text = `${options.name}: ${thrownText(error, options.thrownFallback)}`;
      return failedAttempt(timer, text, "network_error");
    }
  }

  return {
    send(input) {
      if (closing !== null) {
        const closed = `${options.name}: the transport is closed`;
        return Promise.resolve(failedAttempt(startAttempt(options.clock), closed, "network_error"));
      }
      const running = attempt(input);
      sending.add(running);
      void running.finally(() => sending.delete(running));
      return running;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...sending]);
        await options.release();
      })();
      return closing;
    },
    isClosing: () => closing !== null,
  };
}
