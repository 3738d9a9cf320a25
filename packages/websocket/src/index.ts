// `@heraldjs/websocket`: Herald over WebSocket: the delivery transport that holds one connection per listener and counts a delivery only when the listener acks it, and the Node listener helper.
export type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
