// GET /v1/stream/client.js: a small dependency-free ES module for browsers. `connect()` opens
// the stream over EventSource (default) or WebSocket, hands each event to `onEvent` once, keeps
// the last id, and reconnects with it: EventSource does so by itself (Last-Event-ID) while the
// server is reachable, the module by hand when EventSource gives up and for WebSocket.

/** The module's source, served as is. */
export const STREAM_CLIENT_SCRIPT = `// Herald live streams: a dependency-free ES module.
// import { connect } from "https://herald.example/v1/stream/client.js";
// const stream = connect({ token, onEvent: (event, id) => … });   // stream.close() ends it
const BASE = new URL("/", import.meta.url).href;

export class HeraldStream {
  #options;
  #lastEventId;
  #source = null;
  #socket = null;
  #timer = null;
  #closed = false;
  #failures = 0;

  constructor(options) {
    if (!options || typeof options.token !== "string") throw new TypeError("connect() needs a token");
    if (typeof options.onEvent !== "function") throw new TypeError("connect() needs onEvent");
    this.#options = { transport: "sse", reconnectMs: 1000, maxReconnectMs: 30000, ...options };
    this.#lastEventId = options.lastEventId ?? null;
    this.#open();
  }

  /** The id of the last event handed to onEvent (pass it as lastEventId to resume later). */
  get lastEventId() {
    return this.#lastEventId;
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#source?.close();
    this.#socket?.close();
  }

  #url(path, protocol) {
    const url = new URL(path, this.#options.url ?? BASE);
    if (protocol) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", this.#options.token);
    if (this.#lastEventId !== null) url.searchParams.set("last_event_id", this.#lastEventId);
    if (this.#options.types) url.searchParams.set("types", [].concat(this.#options.types).join(","));
    return url.href;
  }

  #deliver(event, id) {
    this.#lastEventId = id;
    this.#failures = 0;
    this.#options.onEvent(event, id);
  }

  #retry(reason) {
    if (this.#closed) return;
    this.#options.onError?.(reason);
    const wait = Math.min(this.#options.reconnectMs * 2 ** this.#failures, this.#options.maxReconnectMs);
    this.#failures++;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#open(), wait);
  }

  #open() {
    if (this.#closed) return;
    if (this.#options.transport === "ws") this.#openSocket();
    else this.#openSource();
  }

  #openSource() {
    const url = new URL(this.#url("v1/stream"));
    url.searchParams.set("event_names", "false");
    const source = new EventSource(url.href);
    this.#source = source;
    source.onopen = () => this.#options.onOpen?.();
    source.onmessage = (message) => this.#deliver(JSON.parse(message.data), message.lastEventId);
    source.onerror = () => {
      // CONNECTING: EventSource reconnects by itself, sending Last-Event-ID. CLOSED: it gave up
      // (an answer other than 200): reconnect by hand, resuming after the last id.
      if (source.readyState === EventSource.CLOSED) this.#retry("closed");
    };
  }

  #openSocket() {
    const socket = new WebSocket(this.#url("v1/stream/ws", true));
    this.#socket = socket;
    socket.onopen = () => this.#options.onOpen?.();
    socket.onmessage = (message) => {
      const { id, message_id, ...event } = JSON.parse(message.data);
      this.#deliver({ id: message_id, ...event }, id);
    };
    socket.onclose = (close) => {
      if (close.code === 4001) return this.#options.onError?.("token");
      this.#retry("closed");
    };
  }
}

/** Opens a stream: { token, onEvent(event, id), url?, transport?: "sse" | "ws", types?, lastEventId?, onOpen?, onError? }. */
export function connect(options) {
  return new HeraldStream(options);
}
`;
