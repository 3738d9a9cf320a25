// WebSocket transport: Herald holds one connection per listener target (`ws://…` / `wss://…`)
// and sends each attempt as one `delivery` text frame; it counts as delivered only when the
// listener answers with an `ack` naming it within the endpoint's timeout.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createSsrfGuard, isSsrfBlocked } from "@heraldjs/core/internal/delivery/ssrfGuard.js";
import {
  answeredAttempt,
  failedAttempt,
  parseAttemptTarget,
  startAttempt,
  succeededAttempt,
  thrownText,
  withDeadline,
} from "@heraldjs/core/internal/delivery/transports/attemptResult.js";
import {
  type ConnectFailures,
  recordConnectFailure,
} from "@heraldjs/core/internal/delivery/transports/connectionSlots.js";
import { guardedAddress } from "@heraldjs/core/internal/delivery/transports/guardedHost.js";
import type { NetworkTransportOptions } from "@heraldjs/core/internal/delivery/transports/networkTransportOptions.js";
import {
  describeSendError,
  timeoutError,
} from "@heraldjs/core/internal/delivery/transports/sendErrors.js";
import { prepareSignedMessage } from "@heraldjs/core/internal/delivery/transports/signedMessage.js";
import type {
  Transport,
  TransportResult,
  TransportSendInput,
} from "@heraldjs/core/internal/delivery/transports/types.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { checkWebSocketTarget, parseWebSocketTarget } from "./websocketTarget.js";

export { checkWebSocketTarget };

import { type DeliveryFrame, frameText } from "../../core/websocketFrames.js";
import {
  type ListenerAnswer,
  type ListenerConnection,
  openListenerConnection,
} from "./websocketConnection.js";

export interface WebSocketTransportOptions extends NetworkTransportOptions {
  /** Most deliveries awaiting an ack on one connection; a send past it fails (retried). Default 1000. */
  maxUnackedPerConnection?: number;
  /** Largest frame read from a listener, in bytes; a larger one drops the connection. Default 64 KiB. */
  maxFrameBytes?: number;
  /** Ping interval; a connection with no pong by the next ping is dropped. Default 30 s. */
  heartbeatIntervalMs?: number;
  /** Wait before reconnecting after the first failure; doubled per failure. Default 500 ms. */
  reconnectBaseMs?: number;
  /** Longest wait before reconnecting. Default 30 s. */
  reconnectMaxMs?: number;
  /** Jitter source, [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * PEM roots that `wss://` listeners' certificates must chain to, instead of the system's
   * (a private CA, a test's self-signed certificate).
   */
  tlsRootCerts?: Buffer;
}

/** The defaults of WebSocketTransportOptions, in one place. */
export const WEBSOCKET_TRANSPORT_DEFAULTS = {
  maxUnackedPerConnection: 1000,
  maxFrameBytes: 64 * 1024,
  heartbeatIntervalMs: 30_000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 30_000,
  /** How long `close()` waits for a listener to answer the close frame before cutting the socket. */
  closeGraceMs: 1000,
} as const;

export interface WebSocketTransportStats {
  /** Connections open now. */
  connections: number;
  /** Deliveries sent and awaiting an answer, over all connections. */
  unacked: number;
  /** Connections opened since the transport was created. */
  connects: number;
  /** Frames from listeners that were not an answer to a waiting delivery (bad JSON, binary, unknown id, late). */
  ignoredFrames: number;
}

export interface WebSocketTransport extends Transport {
  /** Counters, for metrics and tests. */
  stats(): WebSocketTransportStats;
}

/**
 * A connection of a target, or what keeps it from being opened now: `failures` counts connect
 * failures and drops since a listener last answered on it, no new connect is made before
 * `retryAt`, and `lastError` ("" before any) is the last failure as an attempt error
 * (`network: …`, `ssrf.blocked: …`, `websocket: …`).
 */
interface TargetState extends ConnectFailures {
  connection: ListenerConnection | null;
  connecting: Promise<ListenerConnection> | null;
}

/** What a failed connect threw, as an attempt error: never the URL's password. */
function describeConnectError(error: unknown, timeoutMs: number): string {
  if (isSsrfBlocked(error)) return describeSendError(error, timeoutMs);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && !code.startsWith("WS_ERR_")) {
    return describeSendError(error, timeoutMs);
  }
  return `websocket: ${thrownText(error, "connection failed")}`;
}

class NotConnected extends Error {}

export function createWebSocketTransport(
  options: WebSocketTransportOptions = {},
): WebSocketTransport {
  const { clock = systemClock, random = Math.random } = options;
  const settings = { ...WEBSOCKET_TRANSPORT_DEFAULTS, ...checkedSettings(options) };
  const guard = createSsrfGuard({ allow: options.ssrfAllow ?? [] });
  const backoff = { baseMs: settings.reconnectBaseMs, maxMs: settings.reconnectMaxMs };
  const states = new Map<string, TargetState>();
  const inFlight = new Set<Promise<unknown>>();
  const closing = new AbortController();
  let closed: Promise<void> | undefined;
  let connects = 0;
  let ignoredFrames = 0;

  function failed(state: TargetState, error: string): void {
    recordConnectFailure(state, error, backoff, random);
  }

  /** The open connection of `target`, connecting (after the backoff wait) when there is none. */
  function connection(
    target: string,
    url: URL,
    timeoutMs: number,
    deadline: number,
  ): Promise<ListenerConnection> {
    let state = states.get(target);
    if (state === undefined) {
      state = {
        connection: null,
        connecting: null,
        failures: 0,
        retryAt: 0,
        lastError: "",
      };
      states.set(target, state);
    }
    if (state.connection?.isOpen) return Promise.resolve(state.connection);
    if (state.connecting !== null) return state.connecting;
    const wait = state.retryAt - performance.now();
    if (wait > 0 && performance.now() + wait >= deadline) {
      // The backoff outlasts this attempt: fail now with the reason, without connecting.
      return Promise.reject(
        new NotConnected(
          `${state.lastError || "websocket: not connected"} (next connect in ${Math.ceil(wait)} ms)`,
        ),
      );
    }
    const own = state;
    own.connecting = (async () => {
      if (wait > 0) await sleep(wait, undefined, { signal: closing.signal });
      const address = await guardedAddress(guard, url.hostname);
      return openListenerConnection({
        url,
        address,
        handshakeTimeoutMs: timeoutMs,
        ...(options.tlsRootCerts === undefined ? {} : { tlsRootCerts: options.tlsRootCerts }),
        limits: {
          maxUnacked: settings.maxUnackedPerConnection,
          maxPayloadBytes: settings.maxFrameBytes,
          heartbeatMs: settings.heartbeatIntervalMs,
        },
        signal: closing.signal,
        onIgnoredFrame: () => {
          ignoredFrames += 1;
        },
        onClosed: (description) => {
          if (own.connection !== null && !own.connection.isOpen) own.connection = null;
          if (!closing.signal.aborted) failed(own, description);
        },
      });
    })().then(
      (opened) => {
        own.connecting = null;
        own.connection = opened;
        connects += 1;
        return opened;
      },
      (error: unknown) => {
        own.connecting = null;
        failed(
          own,
          closing.signal.aborted
            ? "websocket: the transport is closed"
            : describeConnectError(error, timeoutMs),
        );
        throw new NotConnected(own.lastError || "websocket: not connected");
      },
    );
    return own.connecting;
  }

  async function attempt(input: TransportSendInput): Promise<TransportResult> {
    const { endpoint, delivery, message } = input;
    const timer = startAttempt(clock);
    const timeoutMs = endpoint.timeoutMs;
    const deadline = performance.now() + timeoutMs;
    const parsed = parseAttemptTarget(timer, endpoint.target, parseWebSocketTarget);
    if (!parsed.ok) return parsed.result;
    const url = parsed.target;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    if (closing.signal.aborted) {
      return failedAttempt(timer, "websocket: the transport is closed", "network_error");
    }
    const frame: DeliveryFrame = {
      type: "delivery",
      id: delivery.id,
      message_id: message.id,
      event_type: message.type,
      attempt: input.attemptNumber,
      headers: prepared.message.headers,
      body: prepared.message.body.toString("utf8"),
    };
    const text = frameText(frame);
    const state = () => states.get(endpoint.target);
    let cancel: (() => void) | undefined;
    try {
      const outcome = await withDeadline(async (signal): Promise<ListenerAnswer | "full"> => {
        const open = await connection(endpoint.target, url, timeoutMs, deadline);
        if (signal.aborted) throw new NotConnected(timeoutError(timeoutMs));
        const pending = open.deliver(delivery.id, text);
        if (pending.kind === "full") return "full";
        cancel = pending.cancel;
        return pending.answer;
      }, timeoutMs);
      if (outcome.timedOut) {
        cancel?.();
        return failedAttempt(timer, `timeout: no ack within ${timeoutMs} ms`, "timeout");
      }
      const answer = outcome.value;
      if (answer === "full") {
        return failedAttempt(
          timer,
          `websocket: ${settings.maxUnackedPerConnection} deliveries already await an ack on this connection`,
          "network_error",
        );
      }
      if (answer.kind === "lost") return failedAttempt(timer, answer.error, "network_error");
      const current = state();
      if (current !== undefined) current.failures = 0; // the listener answers: the connection works
      if (answer.kind === "ack") return succeededAttempt(timer, answer.frame);
      const said = answer.error === "" ? "" : `: ${answer.error}`;
      return answeredAttempt(
        timer,
        answer.retry
          ? {
              error: `websocket: nack${said}`,
              classification: { outcome: "retry", reason: "unavailable" },
              responseBody: answer.frame,
            }
          : {
              error: `websocket: nack (retry: false)${said}`,
              classification: { outcome: "reject", reason: "rejected" },
              responseBody: answer.frame,
            },
      );
    } catch (error) {
      const text =
        error instanceof NotConnected ? error.message : describeConnectError(error, timeoutMs);
      return failedAttempt(timer, text, text.startsWith("timeout:") ? "timeout" : "network_error");
    }
  }

  function send(input: TransportSendInput): Promise<TransportResult> {
    const running = attempt(input);
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
    return running;
  }

  async function shutdown(): Promise<void> {
    // Sends already made are answered or time out; then the connections close.
    const waiting = [...inFlight];
    closing.abort();
    await Promise.allSettled(waiting);
    const open = [...states.values()].map((s) => s.connection).filter((c) => c !== null);
    states.clear();
    await Promise.all(open.map((c) => c.close(settings.closeGraceMs)));
  }

  return {
    send,
    close() {
      closed ??= shutdown();
      return closed;
    },
    stats() {
      const open = [...states.values()].map((s) => s.connection).filter((c) => c?.isOpen);
      return {
        connections: open.length,
        unacked: open.reduce((sum, c) => sum + (c?.unacked ?? 0), 0),
        connects,
        ignoredFrames,
      };
    },
  };
}

/** The numeric options that were given, each an integer ≥ 1 (an explicit `undefined` keeps the default). */
function checkedSettings(
  options: WebSocketTransportOptions,
): Partial<Record<keyof typeof WEBSOCKET_TRANSPORT_DEFAULTS, number>> {
  const out: Record<string, number> = {};
  for (const key of [
    "maxUnackedPerConnection",
    "maxFrameBytes",
    "heartbeatIntervalMs",
    "reconnectBaseMs",
    "reconnectMaxMs",
  ] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new HeraldError(
        "config.invalid",
        `Invalid WebSocket transport: ${key} must be an integer ≥ 1`,
        {
          details: { key, value },
        },
      );
    }
    out[key] = value;
  }
  return out;
}
