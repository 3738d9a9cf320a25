// `@heraldjs/grpc`: Herald over gRPC: the delivery transport that calls
// herald.v1.Listener/Deliver with Herald's signature in metadata, the listener helper that
// verifies it, and the published listener.proto.
export type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
export {
  checkGrpcTarget,
  createGrpcTransport,
  type GrpcTransportOptions,
} from "./delivery/transports/grpc.js";
export {
  addHeraldListener,
  createGrpcListener,
  type GrpcListenerDelivery,
  type GrpcListenerOptions,
  type GrpcListenerResult,
} from "./delivery/transports/grpcListener.js";
export { classifyGrpcStatus, grpcStatusName } from "./delivery/transports/grpcStatus.js";
export {
  type AckMessage,
  type DeliveryMessage,
  LISTENER_PROTO_PATH,
  LISTENER_SERVICE_NAME,
  type ListenerService,
  listenerService,
} from "./delivery/transports/listenerProto.js";
