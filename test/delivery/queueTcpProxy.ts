// A TCP proxy on 127.0.0.1 in front of a broker (RabbitMQ, Redis), for the queue transports'
// tests: it can hold what clients send (the broker never answers), cut every connection, and
// refuse new ones, without touching the shared broker itself.
import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Bytes from clients are kept, not forwarded, until `release()`. */
  hold(): void;
  /** Forwards everything held and everything after. */
  release(): void;
  /** Destroys every open connection (both sides), like a broken network. */
  cut(): void;
  /** While true, new connections are accepted and destroyed at once. */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  connected: boolean;
  queued: Buffer[];
}

export async function startTcpProxy(
  upstreamPort: number,
  options: { upstreamHost?: string; holding?: boolean } = {},
): Promise<TcpProxy> {
  const upstreamHost = options.upstreamHost ?? "127.0.0.1";
  let holding = options.holding ?? false;
  let refusing = false;
  let accepted = 0;
  const pairs = new Set<Pair>();

  function drop(pair: Pair): void {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  function flush(pair: Pair): void {
    if (holding || !pair.connected || pair.upstream === null) return;
    for (const chunk of pair.queued.splice(0)) pair.upstream.write(chunk);
  }

  function openUpstream(pair: Pair): void {
    const upstream = connect(upstreamPort, upstreamHost);
    pair.upstream = upstream;
    upstream.on("connect", () => {
      pair.connected = true;
      flush(pair);
    });
    upstream.on("data", (chunk: Buffer) => pair.client.write(chunk));
    upstream.on("error", () => drop(pair));
    upstream.on("close", () => drop(pair));
  }

  const server = createServer((client) => {
    accepted += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null, connected: false, queued: [] };
    pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      pair.queued.push(chunk);
      flush(pair);
    });
    client.on("error", () => drop(pair));
    client.on("close", () => drop(pair));
    if (!holding) openUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get accepted() {
      return accepted;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const pair of pairs) {
        if (pair.upstream === null) openUpstream(pair);
        else flush(pair);
      }
    },
    cut() {
      for (const pair of [...pairs]) drop(pair);
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
