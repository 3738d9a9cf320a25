// The signed headers as gRPC call metadata: the same names and values the Delivery message
// carries, so a listener (or an interceptor in front of it) can verify from either. Names gRPC
// reserves or cannot carry as text are left to the message alone.
import { Metadata } from "@grpc/grpc-js";

/** Set by gRPC itself on every call; a value from the endpoint's headers would clash. */
const RESERVED: ReadonlySet<string> = new Set([
  "content-type",
  "te",
  "host",
  "user-agent",
  "connection",
  "accept-encoding",
]);
const NAME = /^[0-9a-z_.-]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** True when `name: value` can travel as text metadata. */
export function isMetadataHeader(name: string, value: string): boolean {
  return (
    !RESERVED.has(name) &&
    !name.startsWith("grpc-") &&
    !name.endsWith("-bin") &&
    NAME.test(name) &&
    PRINTABLE_ASCII.test(value)
  );
}

/** Every header `isMetadataHeader` lets through (the signature's headers always are). */
export function callMetadata(headers: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) {
    if (isMetadataHeader(name, value)) metadata.set(name, value);
  }
  return metadata;
}

/** The text entries of received metadata, lowercase names (binary `-bin` entries skipped). */
export function metadataHeaders(metadata: Metadata): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}
