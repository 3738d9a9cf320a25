// Redis Streams transport: an attempt appends the signed message to the endpoint's stream with
// XADD (id, delivery_id, event_type, headers, body); the entry id Redis returns is success.
import { createSsrfGuard } from "@heraldjs/core/internal/delivery/ssrfGuard.js";
import {
  type AttemptTimer,
  failedAttempt,
  parseAttemptTarget,
  succeededAttempt,
  thrownText,
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
import { Redis } from "ioredis";
import { parseRedisStreamsTarget, type RedisStreamsTarget } from "./redisStreamsTarget.js";

export type RedisStreamsTransportOptions = NetworkTransportOptions;

/** Socket connect + AUTH/SELECT limit, independent of any one attempt's deadline. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Waits before reconnecting after a failed connect: 100 ms doubling to 5 s; reset by an XADD. */
const RECONNECT_BACKOFF = { baseMs: 100, maxMs: 5_000 };

/**
 * Throws HeraldError("request.invalid", "url: must be …", { details: { field: "url" } }) for a
 * target that is not `redis(s)://[user:pass@]host[:port][/db]?stream=<key>[&maxlen=<n>]` (never
 * echoing a password); returns nothing when fine.
 */
export function checkRedisStreamsTarget(target: string): void {
  parseRedisStreamsTarget(target);
}

/**
 * `ssrf.blocked:` / `network: <CODE> …` for the guard and socket errors, `redis: …` for what
 * Redis answered (WRONGTYPE, NOAUTH, OOM) or ioredis refused (connection closed).
 */
function describeRedisError(error: unknown, target: RedisStreamsTarget, timeoutMs: number): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  const text =
    isHeraldError(error, "ssrf.blocked") || (typeof code === "string" && /^E[A-Z]+$/.test(code))
      ? describeSendError(error, timeoutMs)
      : `redis: ${thrownText(error, "command failed")}`;
  return scrubPassword(text, target.password);
}

/** The XADD arguments after the key: trimming, `*`, then the entry's fields. */
function xaddArguments(
  target: RedisStreamsTarget,
  input: TransportSendInput,
  body: Buffer,
  headers: Record<string, string>,
): (string | Buffer)[] {
  return [
    ...(target.maxlen === null ? [] : ["MAXLEN", "~", String(target.maxlen)]),
    "*",
    "id",
    input.message.id,
    "delivery_id",
    input.delivery.id,
    "event_type",
    input.message.type,
    "headers",
    JSON.stringify(headers),
    "body",
    body,
  ];
}

export function createRedisStreamsTransport(options: RedisStreamsTransportOptions = {}): Transport {
  const { clock = systemClock } = options;
  const guard = createSsrfGuard({ allow: options.ssrfAllow ?? [] });
  /** One client per Redis URL (the target without its query), resolving once it is ready. */
  const slots = createConnectionSlots<Redis>(RECONNECT_BACKOFF);
  /** Every client not yet ended, ready or still connecting: close() ends them all. */
  const live = new Set<Redis>();
  /** Clients given up on (disconnecting, though their status may still say ready). */
  const retired = new WeakSet<Redis>();

  function retire(client: Redis): void {
    retired.add(client);
    client.disconnect();
  }

  async function open(target: RedisStreamsTarget): Promise<Redis> {
    const address = await guardedAddress(guard, target.hostname);
    if (transport.isClosing()) throw new Error("the transport is closed");
    const client = new Redis({
      host: address,
      port: target.port,
      username: target.username,
      password: target.password,
      db: target.db,
      ...(target.tls ? { tls: { servername: target.hostname } } : {}),
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // A down Redis is a quick failed attempt, never a queued command: no offline queue, no
      // per-command retries, and no background reconnects (the next send reconnects).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      autoResubscribe: false,
    });
    // ioredis reports socket and AUTH errors as events; connect() then only says "closed".
    let reported: unknown;
    client.on("error", (error: unknown) => {
      reported = error;
    });
    live.add(client);
    client.once("end", () => live.delete(client));
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw reported ?? error;
    }
    return client;
  }

  /** The URL's ready client, connecting when there is none; rejects with the attempt's error text. */
  function clientFor(target: RedisStreamsTarget, timeoutMs: number): Promise<Redis> {
    return slots.connect(target.connectionKey, {
      open: () => open(target),
      // One that ended (Redis closed the connection) or was retired: the next send reconnects.
      usable: (client) => client.status === "ready" && !retired.has(client),
      describe: (error) => describeRedisError(error, target, timeoutMs),
    });
  }

  async function appendAttempt(
    input: TransportSendInput,
    timer: AttemptTimer,
  ): Promise<TransportResult> {
    const { endpoint } = input;
    const timeoutMs = endpoint.timeoutMs;
    const parsed = parseAttemptTarget(timer, endpoint.target, parseRedisStreamsTarget);
    if (!parsed.ok) return parsed.result;
    const { target } = parsed;
    const prepared = prepareSignedMessage(input, timer);
    if (!prepared.ok) return prepared.result;
    const { body, headers } = prepared.message;
    let used: Redis | undefined;
    const outcome = await withDeadline(
      async (signal): Promise<{ ok: true; entryId: string } | { ok: false; error: string }> => {
        let client: Redis;
        try {
          client = await clientFor(target, timeoutMs);
          used = client;
        } catch (error) {
          return { ok: false, error: thrownText(error, "redis: could not connect") };
        }
        // Past the deadline the attempt is already reported as a timeout: append nothing more.
        if (signal.aborted) return { ok: false, error: "timeout: aborted" };
        try {
          const entryId = await client.xadd(
            target.stream,
            ...(xaddArguments(target, input, body, headers) as [string]),
          );
          if (typeof entryId !== "string")
            return { ok: false, error: "redis: XADD returned no entry id" };
          slots.succeeded(target.connectionKey);
          return { ok: true, entryId };
        } catch (error) {
          return { ok: false, error: describeRedisError(error, target, timeoutMs) };
        }
      },
      timeoutMs,
    );
    if (outcome.timedOut) {
      // An XADD unanswered for a whole timeout means a dead (e.g. half-open) connection, which
      // TCP may take hours to notice: drop it, and the next send connects afresh.
      if (used !== undefined) retire(used);
      return failedAttempt(
        timer,
        `timeout: no XADD reply from Redis within ${timeoutMs} ms`,
        "timeout",
      );
    }
    const result = outcome.value;
    if (!result.ok)
      return failedAttempt(timer, scrubPassword(result.error, target.password), "network_error");
    return succeededAttempt(timer, result.entryId);
  }

  const transport = createDrainingTransport({
    name: "redis",
    clock,
    attempt: appendAttempt,
    thrownFallback: "XADD failed",
    // Sends in flight end first (each within its deadline), so no XADD reply is lost.
    release: async () => {
      slots.removeAll(); // their clients are all in `live`
      await Promise.all(
        [...live].map(async (client) => {
          live.delete(client);
          if (client.status === "ready") await client.quit().catch(() => client.disconnect());
          else client.disconnect();
        }),
      );
    },
  });
  return transport;
}
