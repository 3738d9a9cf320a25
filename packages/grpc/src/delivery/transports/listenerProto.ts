// The published contract, herald/v1/listener.proto, loaded at run time with @grpc/proto-loader:
// the transport calls its Deliver method and the listener helper serves it. The path is found
// from this module, the same from src/ (tests) and dist/ (the built package).
import { fileURLToPath } from "node:url";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** Absolute path of `herald/v1/listener.proto`, shipped in the package's `proto/` folder. */
export const LISTENER_PROTO_PATH: string = fileURLToPath(
  new URL("../../../proto/herald/v1/listener.proto", import.meta.url),
);

/** The full name of the service a listener implements. */
export const LISTENER_SERVICE_NAME = "herald.v1.Listener";

/** `herald.v1.Delivery` as proto-loader gives it (field names in lowerCamelCase). */
export interface DeliveryMessage {
  /** The delivery id (`dlv_…`). */
  id: string;
  /** The message id (`msg_…`), also the signed `webhook-id`. */
  messageId: string;
  eventType: string;
  tenant: string;
  attempt: number;
  /** The JSON payload exactly as signed. */
  body: Buffer;
  /** The signed headers, lowercase names. */
  headers: Record<string, string>;
}

/** `herald.v1.Ack`. */
export interface AckMessage {
  note?: string;
}

export type ListenerService = ServiceDefinition<{
  Deliver: MethodDefinition<DeliveryMessage, AckMessage>;
}>;

let loaded: ListenerService | undefined;

/** The `herald.v1.Listener` service definition (loaded once, on first use). */
export function listenerService(): ListenerService {
  loaded ??= loadSync(LISTENER_PROTO_PATH, {
    keepCase: false,
    longs: String,
    enums: String,
    // Absent fields read as their defaults ("" / 0 / empty bytes / {}), never undefined.
    defaults: true,
    oneofs: false,
  })[LISTENER_SERVICE_NAME] as unknown as ListenerService;
  return loaded;
}
