// One open WebSocket connection from Herald to a listener: opened to the address the SSRF guard
// approved (Host and SNI stay the URL's), the deliveries awaiting an ack or nack (bounded), the
// ping/pong heartbeat that drops a dead connection, and the listener's frames matched by id.
import { isIP, type NetConnectOpts, connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import WebSocket, { type RawData } from "ws";
import { parseListenerFrame } from "../../core/websocketFrames.js";

export interface ConnectionLimits {
  /** Most deliveries awaiting an answer on the connection at once. */
  maxUnacked: number;
  /** Largest frame read from the listener, in bytes; a larger one closes the connection (1009). */
  maxPayloadBytes: number;
  /** Ping interval; a connection that has not answered the previous ping is dropped. */
  heartbeatMs: number;
}

/** The listener's answer to one delivery frame, or why none will come. */
export type ListenerAnswer =
  | { kind: "ack"; frame: string }
  | { kind: "nack"; retry: boolean; error: string; frame: string }
  | { kind: "lost"; error: string };

export type PendingDelivery =
  | { kind: "sent"; answer: Promise<ListenerAnswer>; cancel(): void }
  | { kind: "full"; unacked: number };

export interface ListenerConnection {
  readonly isOpen: boolean;
  /** Deliveries sent and awaiting an answer. */
  readonly unacked: number;
  /**
   * Sends one delivery frame; its answer is the listener's ack or nack naming `id` (the oldest
   * waiting one of that id first), or `lost` when the connection closes first. `cancel()` stops
   * waiting (a timed-out attempt), so a late answer is an unknown id.
   */
  deliver(id: string, text: string): PendingDelivery;
  /** Resolves once no delivery awaits an answer. */
  settled(): Promise<void>;
  /** Closes (1001) and resolves when closed, terminating the socket after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export interface OpenConnectionOptions {
  url: URL;
  /** The address the SSRF guard approved for `url.hostname`. */
  address: string;
  handshakeTimeoutMs: number;
  /** PEM roots for `wss://` instead of the system's. */
  tlsRootCerts?: Buffer;
  limits: ConnectionLimits;
  /** A frame that is not an ack/nack of a waiting delivery (bad JSON, binary, unknown id). */
  onIgnoredFrame(): void;
  /** After the connection closed (whoever closed it), with the close code. */
  onClosed(description: string): void;
  /** Aborts the opening handshake (the transport closes). */
  signal: AbortSignal;
}

interface Waiter {
  resolve(answer: ListenerAnswer): void;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
}

/** A socket to the approved address for ws's handshake request; TLS keeps the name as SNI. */
function connector(url: URL, address: string) {
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const secure = url.protocol === "wss:";
  return (options: object): Socket => {
    // `path` is the request path in ws's options; for net.connect it would mean an IPC socket.
    const base: Record<string, unknown> = { ...options, path: undefined, host: address };
    if (!secure) return netConnect(base as unknown as NetConnectOpts);
    return tlsConnect({
      ...base,
      servername: isIP(hostname) === 0 ? hostname : undefined,
    } as ConnectionOptions);
  };
}

/** Opens the connection; rejects with the handshake's error (or the abort). */
export function openListenerConnection(
  options: OpenConnectionOptions,
): Promise<ListenerConnection> {
  const { url, address, limits, signal } = options;
  return new Promise<ListenerConnection>((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error("the transport is closed"));
      return;
    }
    const socket = new WebSocket(url, {
      handshakeTimeout: options.handshakeTimeoutMs,
      ...(options.tlsRootCerts === undefined ? {} : { ca: options.tlsRootCerts }),
      maxPayload: limits.maxPayloadBytes,
      perMessageDeflate: false,
      followRedirects: false,
      createConnection: connector(url, address) as never,
    });
    let opened = false;
    let lastError: Error | undefined;
    const abort = () => socket.terminate();
    signal.addEventListener("abort", abort, { once: true });
    socket.on("error", (error) => {
      lastError = error;
      if (!opened) reject(error);
    });
    socket.once("close", () => {
      signal.removeEventListener("abort", abort);
      if (!opened) reject(lastError ?? new Error("the transport is closed"));
    });
    socket.once("open", () => {
      opened = true;
      signal.removeEventListener("abort", abort);
      resolve(listenerConnection(socket, options, () => lastError));
    });
  });
}

function listenerConnection(
  socket: WebSocket,
  { limits, onIgnoredFrame, onClosed }: OpenConnectionOptions,
  lastError: () => Error | undefined,
): ListenerConnection {
  // Map: delivery ids come from the store, but a Map needs no thought about `__proto__`.
  const waiting = new Map<string, Waiter[]>();
  let unacked = 0;
  const idle: (() => void)[] = [];
  let alive = true;
  let closed = false;

  function take(id: string, waiter?: Waiter): Waiter | undefined {
    const list = waiting.get(id);
    if (list === undefined) return undefined;
    const index = waiter === undefined ? 0 : list.indexOf(waiter);
    if (index < 0) return undefined;
    const [taken] = list.splice(index, 1);
    if (list.length === 0) waiting.delete(id);
    unacked -= 1;
    if (unacked === 0) for (const resolve of idle.splice(0)) resolve();
    return taken;
  }

  const heartbeat = setInterval(() => {
    if (!alive) {
      socket.terminate(); // no pong since the last ping: the peer or the path is gone
      return;
    }
    alive = false;
    socket.ping();
  }, limits.heartbeatMs);
  heartbeat.unref();

  socket.on("pong", () => {
    alive = true;
  });
  socket.on("message", (data, isBinary) => {
    alive = true;
    const text = isBinary ? null : rawText(data);
    const frame = text === null ? null : parseListenerFrame(text);
    const waiter = frame === null ? undefined : take(frame.id);
    if (frame === null || waiter === undefined || text === null) {
      onIgnoredFrame();
      return;
    }
    waiter.resolve(
      frame.type === "ack"
        ? { kind: "ack", frame: text }
        : { kind: "nack", retry: frame.retry !== false, error: frame.error ?? "", frame: text },
    );
  });
  socket.once("close", (code, reason) => {
    closed = true;
    clearInterval(heartbeat);
    const why = reason.length > 0 ? ` ${reason.toString("utf8")}` : "";
    const cause = lastError();
    const description =
      `websocket: connection closed (${code}${why})` +
      (cause !== undefined && cause.message !== "" ? `: ${cause.message}` : "");
    for (const id of [...waiting.keys()]) {
      for (let w = take(id); w !== undefined; w = take(id)) {
        w.resolve({ kind: "lost", error: `${description} before the listener answered` });
      }
    }
    onClosed(description);
  });

  return {
    get isOpen() {
      return !closed && socket.readyState === WebSocket.OPEN;
    },
    get unacked() {
      return unacked;
    },
    deliver(id, text) {
      if (unacked >= limits.maxUnacked) return { kind: "full", unacked };
      let waiter: Waiter | undefined;
      const answer = new Promise<ListenerAnswer>((resolve) => {
        waiter = { resolve };
      });
      const own = waiter as Waiter;
      const list = waiting.get(id);
      if (list === undefined) waiting.set(id, [own]);
      else list.push(own);
      unacked += 1;
      if (closed || socket.readyState !== WebSocket.OPEN) {
        take(id, own)?.resolve({ kind: "lost", error: "websocket: connection not open" });
      } else {
        socket.send(text, (error) => {
          if (error === undefined || error === null) return;
          take(id, own)?.resolve({
            kind: "lost",
            error: `websocket: send failed: ${error.message}`,
          });
        });
      }
      return { kind: "sent", answer, cancel: () => void take(id, own) };
    },
    settled() {
      if (unacked === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    close(graceMs) {
      if (closed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => socket.terminate(), graceMs);
        socket.once("close", () => {
          clearTimeout(force);
          resolve();
        });
        socket.close(1001, "Herald is shutting down");
      });
    },
  };
}
