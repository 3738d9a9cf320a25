// `@heraldjs/grpc`: Herald over gRPC: the delivery transport that calls herald.v1.Listener/Deliver with Herald's signature in metadata, and the published listener.proto.
export type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
