// The process's one reader of the message stream: while any live stream is open, it asks the
// store for the messages after its position every `pollMs` and offers each, once and in stream
// order, to every open stream, which keeps those of its tenant and types. One query per poll,
// whatever the number of streams; the store's cursor makes it see messages other processes
// stored too. Each stream learns, when it attaches, the position from which the hub offers it
// everything: it replays from the store up to there, so nothing falls between the two.
import type {
  StreamCursor,
  StreamItem,
  StreamStore,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Logger } from "pino";

/** Why a stream ended: stable words for logs and metrics. */
export type StreamEndReason =
  | "client_closed"
  | "buffer_full"
  | "heartbeat_timeout"
  | "token_revoked"
  | "token_expired"
  | "replay_done"
  | "store_error"
  | "shutdown";

export const STREAM_END_REASONS: readonly StreamEndReason[] = Object.freeze([
  "client_closed",
  "buffer_full",
  "heartbeat_timeout",
  "token_revoked",
  "token_expired",
  "replay_done",
  "store_error",
  "shutdown",
]);

/** An open stream as the hub sees it. */
export interface StreamSubscriber {
  readonly tokenId: string;
  /** Every message stored after the attach position, in stream order, once each. */
  offer(item: StreamItem): void;
  /** Ends the stream (idempotent); it detaches itself. */
  close(reason: StreamEndReason): void;
}

export interface StreamHub {
  /**
   * Registers the stream; resolves to the position after which `offer` gets every message.
   * Rejects (store.unavailable) when the hub cannot learn its position.
   */
  attach(subscriber: StreamSubscriber): Promise<StreamCursor>;
  detach(subscriber: StreamSubscriber): void;
  /** Ends this process's streams opened with the token (a revocation through the API). */
  revoked(tokenId: string): void;
  /** Ends every stream; after `shutdown`, attach refuses with server.shutting_down. */
  closeAll(reason: StreamEndReason): void;
  /** Counts a stream's end by reason (metrics). */
  ended(reason: StreamEndReason): void;
  /** Streams ended so far, by reason. */
  readonly endings: Readonly<Record<StreamEndReason, number>>;
  /** Streams attached now. */
  readonly open: number;
}

export interface StreamHubOptions {
  store: Pick<StreamStore, "latestStreamCursor" | "readStream">;
  pollMs: number;
  logger?: Logger;
  /** Messages per read; default 100 (payloads may be large). */
  pageSize?: number;
  /** Told of each stream's end (metrics). */
  onEnded?: (reason: StreamEndReason) => void;
}

export function createStreamHub(options: StreamHubOptions): StreamHub {
  const { store, pollMs, logger } = options;
  const pageSize = options.pageSize ?? 100;
  const subscribers = new Set<StreamSubscriber>();
  const endings = Object.fromEntries(STREAM_END_REASONS.map((r) => [r, 0])) as Record<
    StreamEndReason,
    number
  >;
  /** Where the next read starts; null while idle (no stream open). */
  let position: StreamCursor | null = null;
  /** Bumped when the hub goes idle: a read begun before then is dropped. */
  let generation = 0;
  let starting: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  /** Set by closeAll("shutdown"): no stream attaches after it. */
  let stopped = false;

  const schedule = () => {
    timer = setTimeout(tick, pollMs);
    timer.unref();
  };

  async function tick(): Promise<void> {
    const ran = generation;
    try {
      for (;;) {
        const items = await store.readStream({ after: position!, limit: pageSize });
        if (ran !== generation) return;
        for (const item of items) {
          position = item.cursor;
          for (const subscriber of [...subscribers]) subscriber.offer(item);
        }
        if (items.length < pageSize) break;
      }
      if (failing) logger?.info("live streams read the store again");
      failing = false;
    } catch (error) {
      if (ran !== generation) return;
      if (!failing) logger?.warn({ err: error }, "live streams cannot read the store; retrying");
      failing = true;
    } finally {
      if (ran === generation) schedule();
    }
  }

  async function start(): Promise<void> {
    const latest = await store.latestStreamCursor();
    if (position === null) {
      position = latest;
      schedule();
    }
  }

  function idle(): void {
    generation++;
    position = null;
    clearTimeout(timer);
    timer = undefined;
  }

  return {
    async attach(subscriber) {
      while (position === null && !stopped) {
        starting ??= start().finally(() => {
          starting = undefined;
        });
        await starting;
      }
      // A stream that got here while the server began to stop would hold the stop up.
      if (stopped) throw new HeraldError("server.shutting_down", "The server is shutting down");
      subscribers.add(subscriber);
      return position!;
    },
    detach(subscriber) {
      if (subscribers.delete(subscriber) && subscribers.size === 0) idle();
    },
    revoked(tokenId) {
      for (const s of [...subscribers]) if (s.tokenId === tokenId) s.close("token_revoked");
    },
    closeAll(reason) {
      if (reason === "shutdown") stopped = true;
      for (const s of [...subscribers]) s.close(reason);
    },
    ended(reason) {
      endings[reason]++;
      try {
        options.onEnded?.(reason);
      } catch {
        // Observing must not change how a stream ends.
      }
    },
    endings,
    get open() {
      return subscribers.size;
    },
  };
}
