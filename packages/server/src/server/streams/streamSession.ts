// One live stream, whatever carries it (SSE or WebSocket): it attaches to the hub, replays the
// stored messages after the client's last id up to the hub's position, then sends what the hub
// offers. Live messages that arrive while the replay runs wait in a bounded list and go out
// after it, minus any the client already had: no gap and no duplicate across the switch.
import { compileTypeMatcher, type TypeMatcher } from "@heraldjs/core/internal/core/typePattern.js";
import {
  compareStreamCursors,
  type StreamTokenRecord,
} from "@heraldjs/core/internal/model/streamRecords.js";
import type { StreamItem, StreamStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { Logger } from "pino";
import type { StreamSettings } from "../../config/streamSettings.js";
import type { StreamEndReason, StreamHub, StreamSubscriber } from "./streamHub.js";

/** What carries a stream to the client. */
export interface StreamSink {
  /** Writes one event. */
  send(item: StreamItem): void;
  /** Bytes written and not yet taken by the client. */
  buffered(): number;
  /** Resolves once the written bytes have gone out (or the sink closed). */
  drained(): Promise<void>;
  /** Sends a heartbeat; false when the previous one went unanswered (WebSocket pong). */
  ping(): boolean;
  /** Ends the connection: gracefully, or at once when the client stopped reading. */
  end(reason: StreamEndReason): void;
}

export interface StreamSessionOptions {
  hub: StreamHub;
  store: Pick<StreamStore, "readStream" | "getStreamToken">;
  token: StreamTokenRecord;
  /** Patterns narrowing the token's (`?types=`); null for all the token allows. */
  types: readonly string[] | null;
  /** The client's last id; null to start from now. */
  after: string | null;
  /** False: only the stored messages after `after`, then the end. */
  live: boolean;
  settings: StreamSettings;
  clock: Clock;
  logger: Logger;
  /** Messages per replay read; default 100 (payloads may be large). */
  pageSize?: number;
}

export interface StreamSession {
  /** Attaches to the hub (live streams): rejects with store.unavailable before any byte is sent. */
  open(): Promise<void>;
  /** Replays, then goes live, writing to `sink` until the stream ends. */
  run(sink: StreamSink): Promise<void>;
  close(reason: StreamEndReason): void;
  /** The client went away. */
  readonly closed: boolean;
}

/** Rough bytes of a waiting item: what bounds the list of live items held during a replay. */
const sizeOf = (item: StreamItem) =>
  item.cursor.length + item.message.type.length + JSON.stringify(item.message.payload).length;

export function createStreamSession(options: StreamSessionOptions): StreamSession {
  const { hub, store, token, settings, clock, logger } = options;
  const pageSize = options.pageSize ?? 100;
  const allowed: TypeMatcher = compileTypeMatcher(token.eventTypes);
  const narrowed: TypeMatcher | null =
    options.types === null ? null : compileTypeMatcher(options.types);
  const accepts = (item: StreamItem) =>
    item.message.tenant === token.tenant &&
    allowed.matches(item.message.type) &&
    (narrowed === null || narrowed.matches(item.message.type));

  let sink: StreamSink | undefined;
  let state: "opening" | "replaying" | "live" | "closed" = "opening";
  let waiting: StreamItem[] = [];
  let waitingBytes = 0;
  let attachedAt: string | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  // A function, not a comparison: close() may run during any await.
  const isClosed = () => state === "closed";

  // The client's cursor until the hub offers something after it: a client whose cursor came
  // from a process whose reader was ahead of this one's must not get those messages again.
  let floor: string | null = options.after;
  const deliver = (item: StreamItem) => {
    if (floor !== null) {
      if (compareStreamCursors(item.cursor, floor) <= 0) return;
      floor = null;
    }
    sink!.send(item);
    if (sink!.buffered() > settings.maxBufferedBytes) close("buffer_full");
  };

  const subscriber: StreamSubscriber = {
    tokenId: token.id,
    offer(item) {
      if (state === "closed" || !accepts(item)) return;
      if (state === "live") {
        deliver(item);
        return;
      }
      waiting.push(item);
      waitingBytes += sizeOf(item);
      if (waitingBytes > settings.maxBufferedBytes) close("buffer_full");
    },
    close: (reason) => close(reason),
  };

  function close(reason: StreamEndReason): void {
    if (state === "closed") return;
    const wasOpen = sink !== undefined;
    state = "closed";
    waiting = [];
    clearInterval(heartbeat);
    clearTimeout(expiry);
    hub.detach(subscriber);
    hub.ended(reason);
    const fields = { reason, tokenId: token.id, tenant: token.tenant };
    if (reason === "buffer_full") {
      logger.warn(
        { ...fields, maxBufferedBytes: settings.maxBufferedBytes },
        "stream cut off: the client did not read its events",
      );
    } else {
      logger.debug(fields, "stream ended");
    }
    if (wasOpen) sink!.end(reason);
  }

  async function beat(): Promise<void> {
    if (state === "closed") return;
    if (!sink!.ping()) return close("heartbeat_timeout");
    if (sink!.buffered() > settings.maxBufferedBytes) return close("buffer_full");
    // A revocation in another process reaches this one's streams here.
    try {
      const current = await store.getStreamToken(token.id);
      if (current === undefined || current.revokedAt !== null) close("token_revoked");
    } catch {
      // The store is away: the stream goes on; the hub's reader says so in the log.
    }
  }

  async function replay(): Promise<void> {
    let after = options.after!;
    for (;;) {
      const items = await store.readStream({
        after,
        ...(attachedAt === null ? {} : { until: attachedAt }),
        tenant: token.tenant,
        limit: pageSize,
      });
      for (const item of items) {
        if (isClosed()) return;
        if (!accepts(item)) continue;
        sink!.send(item);
        // A backlog goes out as fast as the client takes it, never faster.
        if (sink!.buffered() > settings.maxBufferedBytes / 2) await sink!.drained();
      }
      if (items.length < pageSize || isClosed()) return;
      after = items[items.length - 1]!.cursor;
    }
  }

  return {
    async open() {
      if (!options.live) return;
      attachedAt = await hub.attach(subscriber);
      if (isClosed()) hub.detach(subscriber);
    },
    async run(given) {
      if (isClosed()) {
        given.end("client_closed");
        return;
      }
      sink = given;
      state = "replaying";
      const untilExpiry = Date.parse(token.expiresAt) - clock.now();
      expiry = setTimeout(() => close("token_expired"), Math.max(0, untilExpiry));
      heartbeat = setInterval(() => void beat(), settings.heartbeatMs);
      expiry.unref();
      heartbeat.unref();
      try {
        if (options.after !== null) await replay();
      } catch (error) {
        logger.warn(
          { err: error, tokenId: token.id },
          "stream replay failed; the client reconnects",
        );
        close("store_error");
        return;
      }
      if (!options.live) return close("replay_done");
      if (isClosed()) return;
      const held = waiting;
      waiting = [];
      waitingBytes = 0;
      state = "live";
      for (const item of held) {
        if (isClosed()) return;
        deliver(item);
      }
    },
    close,
    get closed() {
      return isClosed();
    },
  };
}
