// One gRPC client per endpoint target, reused by every send: the host is resolved through the
// SSRF guard when the client is made and the client dials that address (TLS still checks the
// certificate against the host name). grpc-js reconnects a broken connection itself, with
// backoff; a client found in TRANSIENT_FAILURE has its host resolved and checked again on the
// next send, and is replaced only when the address changed.

import { isIP } from "node:net";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  connectivityState,
  credentials,
} from "@grpc/grpc-js";
import type { SsrfGuard } from "@heraldjs/core/internal/delivery/ssrfGuard.js";
import { guardedAddress } from "@heraldjs/core/internal/delivery/transports/guardedHost.js";
import type { GrpcTarget } from "./grpcTarget.js";

/** Most clients kept at once; past it the least recently used one is closed. */
export const MAX_GRPC_CLIENTS = 1024;
/** Largest Ack accepted (a listener's note is kept ≤ the attempt log's limit anyway). */
const MAX_RECEIVE_BYTES = 1024 * 1024;
/** Longest wait between two reconnection tries to a listener that is down (grpc-js: 120 s). */
const MAX_RECONNECT_BACKOFF_MS = 10_000;

interface Connection {
  address: string;
  client: Client;
}

export interface GrpcConnectionsOptions {
  guard: SsrfGuard;
  /** PEM roots for `grpcs://` instead of the system's. */
  tlsRootCerts?: Buffer;
}

export interface GrpcConnections {
  /** The client for `target` (made, or checked again when broken); rejects with `ssrf.blocked`, a DNS error, or when closed. */
  client(target: string, parsed: GrpcTarget): Promise<Client>;
  /** Closes every client; calls already sent complete on their connection. Idempotent. */
  close(): void;
  /** How many clients are cached. */
  readonly size: number;
}

function dialTarget(address: string, port: number): string {
  return isIP(address) === 6 ? `ipv6:[${address}]:${port}` : `ipv4:${address}:${port}`;
}

export function createGrpcConnections(options: GrpcConnectionsOptions): GrpcConnections {
  const { guard } = options;
  const cache = new Map<string, Promise<Connection>>();
  let closed = false;
  let tlsCredentials: ChannelCredentials | undefined;

  function channelCredentials(parsed: GrpcTarget): ChannelCredentials {
    if (!parsed.tls) return credentials.createInsecure();
    tlsCredentials ??= credentials.createSsl(options.tlsRootCerts ?? null);
    return tlsCredentials;
  }

  function makeClient(parsed: GrpcTarget, address: string): Client {
    const channelOptions: ChannelOptions = {
      // The listener sees the name it was addressed by, not the address dialled.
      "grpc.default_authority": parsed.authority,
      "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
      "grpc.max_reconnect_backoff_ms": MAX_RECONNECT_BACKOFF_MS,
      // SNI and the certificate check use the host name.
      ...(parsed.tls ? { "grpc.ssl_target_name_override": parsed.host } : {}),
    };
    return new Client(dialTarget(address, parsed.port), channelCredentials(parsed), channelOptions);
  }

  function remember(target: string, pending: Promise<Connection>): Promise<Connection> {
    cache.delete(target);
    cache.set(target, pending);
    pending.catch(() => {
      if (cache.get(target) === pending) cache.delete(target);
    });
    while (cache.size > MAX_GRPC_CLIENTS) {
      const [oldest, evicted] = cache.entries().next().value as [string, Promise<Connection>];
      cache.delete(oldest);
      evicted.then(
        (c) => c.client.close(),
        () => {},
      );
    }
    return pending;
  }

  async function open(parsed: GrpcTarget, previous?: Connection): Promise<Connection> {
    let address: string;
    try {
      address = await guardedAddress(guard, parsed.host);
    } catch (error) {
      previous?.client.close();
      throw error;
    }
    if (closed) {
      previous?.client.close();
      throw new Error("the gRPC transport is closed");
    }
    // Same address: keep the client, and with it grpc-js's reconnection backoff.
    if (previous !== undefined && previous.address === address && !isShutDown(previous)) {
      return previous;
    }
    previous?.client.close();
    return { address, client: makeClient(parsed, address) };
  }

  function broken(connection: Connection): boolean {
    const state = connection.client.getChannel().getConnectivityState(false);
    return state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN;
  }

  function isShutDown(connection: Connection): boolean {
    return (
      connection.client.getChannel().getConnectivityState(false) === connectivityState.SHUTDOWN
    );
  }

  async function client(target: string, parsed: GrpcTarget): Promise<Client> {
    if (closed) throw new Error("the gRPC transport is closed");
    const cached = cache.get(target);
    if (cached === undefined) return (await remember(target, open(parsed))).client;
    cache.delete(target); // most recently used goes last
    cache.set(target, cached);
    const current = await cached;
    // Another send replaced it meanwhile: use that one.
    if (cache.get(target) !== cached) return client(target, parsed);
    if (!broken(current)) return current.client;
    return (await remember(target, open(parsed, current))).client;
  }

  function close(): void {
    closed = true;
    const pending = [...cache.values()];
    cache.clear();
    for (const connection of pending)
      connection.then(
        (c) => c.client.close(),
        () => {},
      );
  }

  return {
    client,
    close,
    get size() {
      return cache.size;
    },
  };
}
