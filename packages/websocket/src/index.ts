// `@heraldjs/websocket`: Herald over WebSocket: the delivery transport that holds one connection per listener and counts a delivery only when the listener acks it, and the Node listener helper.
export type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
export type {
  AckFrame,
  DeliveryFrame,
  ListenerFrame,
  NackFrame,
} from "./core/websocketFrames.js";
export {
  checkWebSocketTarget,
  createWebSocketTransport,
  WEBSOCKET_TRANSPORT_DEFAULTS,
  type WebSocketTransport,
  type WebSocketTransportOptions,
  type WebSocketTransportStats,
} from "./delivery/transports/websocket.js";
export {
  createWebSocketListener,
  DeliveryRejection,
  type HeraldDelivery,
  type HeraldSocketOptions,
  handleHeraldSocket,
  type WebSocketListener,
  type WebSocketListenerOptions,
} from "./inbound/websocketListener.js";
