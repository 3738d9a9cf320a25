// A real grpc-js server implementing herald.v1.Listener on loopback for the gRPC transport's
// tests: it records every call (metadata, the Delivery message) and answers as the test says,
// or holds the answer until released.
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  type status,
} from "@grpc/grpc-js";
import {
  type AckMessage,
  type DeliveryMessage,
  listenerService,
} from "../../packages/grpc/src/delivery/transports/listenerProto.js";

/** How the peer answers one call. */
export type GrpcAnswer =
  /** OK, `delayMs` after the call arrived (default at once). */
  | { ack: AckMessage; delayMs?: number }
  | { status: status; details?: string }
  /** No answer until `release()` (then OK). */
  | "hold";

export interface GrpcCallSeen {
  /** The metadata's text entries, lowercase names. */
  metadata: Record<string, string>;
  request: DeliveryMessage;
  /** The client's address and port as the server saw it (one connection, one port). */
  peer: string;
  /** The `:authority` the call was addressed to. */
  authority: string;
}

export interface GrpcPeer {
  server: Server;
  port: number;
  seen: GrpcCallSeen[];
  /** Calls answered OK while still open (the client can have had the Ack). */
  acknowledged: GrpcCallSeen[];
  answer: (call: GrpcCallSeen) => GrpcAnswer;
  /** Answers every held call with OK. */
  release(): void;
  /** Stops at once (forceShutdown): calls in flight are cut. */
  stop(): void;
}

export interface GrpcPeerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  credentials?: ServerCredentials;
}

function textMetadata(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata.getMap())) if (typeof v === "string") out[k] = v;
  return out;
}

export async function startGrpcPeer(
  answer: GrpcPeer["answer"],
  options: GrpcPeerOptions = {},
): Promise<GrpcPeer> {
  const server = new Server();
  const held: sendUnaryData<AckMessage>[] = [];
  const peer: GrpcPeer = {
    server,
    port: 0,
    seen: [],
    acknowledged: [],
    answer,
    release: () => {
      for (const callback of held.splice(0)) callback(null, {});
    },
    stop: () => server.forceShutdown(),
  };
  server.addService(listenerService(), {
    Deliver: (
      call: ServerUnaryCall<DeliveryMessage, AckMessage>,
      callback: sendUnaryData<AckMessage>,
    ) => {
      const seen: GrpcCallSeen = {
        metadata: textMetadata(call.metadata),
        request: call.request,
        peer: call.getPeer(),
        authority: call.getHost(),
      };
      peer.seen.push(seen);
      const reply = peer.answer(seen);
      const acknowledge = (ack: AckMessage) => {
        if (call.cancelled) return; // cut under the call: the client never gets this Ack
        peer.acknowledged.push(seen);
        callback(null, ack);
      };
      if (reply === "hold") held.push(callback);
      else if ("ack" in reply) {
        const { ack, delayMs } = reply;
        if (delayMs === undefined) acknowledge(ack);
        else setTimeout(() => acknowledge(ack), delayMs);
      } else
        callback({
          code: reply.status,
          details: reply.details ?? "",
          metadata: new Metadata(),
        });
    },
  });
  peer.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${options.host ?? "127.0.0.1"}:${options.port ?? 0}`,
      options.credentials ?? ServerCredentials.createInsecure(),
      (error, port) => (error === null ? resolve(port) : reject(error)),
    ),
  );
  return peer;
}
