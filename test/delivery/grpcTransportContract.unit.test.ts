// The transport contract on grpc: real grpc-js servers implementing herald.v1.Listener on
// 127.0.0.1, one per behaviour (OK, UNAVAILABLE, INVALID_ARGUMENT, an answer withheld until
// released); the peer reads the signature from the call metadata.
import { status } from "@grpc/grpc-js";
import { createGrpcTransport } from "../../packages/grpc/src/delivery/transports/grpc.js";
import {
  type PeerBehaviour,
  type PeerSeen,
  type TransportHarness,
  transportContract,
} from "../contracts/transport.js";
import { LISTENER_CAPABILITIES } from "./contractHarnesses.js";
import { type GrpcAnswer, type GrpcPeer, startGrpcPeer } from "./grpcPeer.js";

const ANSWERS: Record<PeerBehaviour, GrpcAnswer> = {
  succeed: { ack: { note: "stored" } },
  transient: { status: status.UNAVAILABLE, details: "listener busy" },
  permanent: { status: status.INVALID_ARGUMENT, details: "unknown order" },
  hang: "hold",
};

transportContract("grpc", async (): Promise<TransportHarness> => {
  const peers = new Map<PeerBehaviour, GrpcPeer>();
  for (const behaviour of Object.keys(ANSWERS) as PeerBehaviour[]) {
    const answer = ANSWERS[behaviour];
    peers.set(behaviour, await startGrpcPeer(() => answer));
  }
  return {
    transport: createGrpcTransport({ ssrfAllow: ["127.0.0.0/8"] }),
    target: (behaviour) => `grpc://127.0.0.1:${peers.get(behaviour)?.port}`,
    received: async () =>
      [...peers.values()].flatMap((peer) =>
        peer.seen.map(
          (call): PeerSeen => ({
            id: call.metadata["webhook-id"] ?? "",
            headers: call.metadata,
            body: call.request.body.toString("utf8"),
          }),
        ),
      ),
    release: () => {
      for (const peer of peers.values()) peer.release();
    },
    dispose: async () => {
      for (const peer of peers.values()) peer.stop();
    },
    capabilities: LISTENER_CAPABILITIES,
  };
});
